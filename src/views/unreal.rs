//! `unreal`: View-OS's test view. `PREFIX/X` and `PREFIX/PREFIX/X` are both the outer `/X`, so
//! two levels of the prefix reach the outer root and a third is the outer view's `PREFIX`.

use super::bind::Bind;
use super::Mount;

pub fn mounts(prefix: &[u8]) -> Vec<Box<dyn Mount>> {
    let mut twice = prefix.to_vec();
    twice.extend_from_slice(prefix);
    vec![Box::new(Bind::new(prefix, b"/", false)), Box::new(Bind::new(&twice, b"/", false))]
}
