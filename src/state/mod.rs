//! What a process in a view remembers between calls: its virtual working directory, the names
//! of its descriptors and sockets, its program's name, the chdir actions of pending spawns. All
//! of it lock-free and heap-free, readable from a signal handler or a `vfork` child.

pub mod cwd;
pub mod exe;
pub mod fds;
pub mod identity;
pub mod owners;
pub mod seqpath;
pub mod sockets;
pub mod spawn;
pub mod xattrs;

/// In the child of a `fork`: a path some other thread of the parent was writing at that moment
/// is half-written here forever; drop it.
pub fn after_fork() {
    crate::sys::pool::after_fork();
    cwd::after_fork();
    if seqpath::WRITING.load(std::sync::atomic::Ordering::Relaxed) != 0 {
        cwd::repair();
        fds::repair();
        seqpath::WRITING.store(0, std::sync::atomic::Ordering::Relaxed);
    }
}
