complete -c kmview -s b -l bind -d 'DST shows SRC (a file or a directory); SRC alone binds it at its own path (proot\'s -b, -m, --mount)' -r
complete -c kmview -l ro-bind -d 'The same, read-only: every write under DST fails with EROFS' -r
complete -c kmview -s r -l root -d 'DIR is the view\'s /, with the other mounts on top of it' -r
complete -c kmview -s R -l root-with-host -d 'DIR is the view\'s /, with the host\'s usual paths bound on it, as proot\'s -R does: /dev, /proc, /sys, /tmp, /run, $HOME, and /etc\'s hosts, passwd, group, resolv.conf, localtime...' -r
complete -c kmview -l hide -d 'PATH is ENOENT, and absent from its parent\'s listing' -r
complete -c kmview -l deny -d 'EACCES for PATH and below' -r
complete -c kmview -l ro -d 'Every write under PATH fails with EROFS: PATH is a read-only bind mount of itself (rename and link across its edge are EXDEV, removing PATH is EBUSY)' -r
complete -c kmview -l tmp -d 'A fresh empty writable directory at PATH, removed when the command ends' -r
complete -c kmview -l overlay -d 'DIR copy-on-write: the command may change it freely, DIR itself is never written. The changes land in UPPER (made if missing; by default a fresh directory, named on stderr when the command ends and kept) as an OCI layer: `.wh.NAME` for a removed entry, `.wh..wh..opq` in a directory replaced wholesale. See `kmview overlay`' -r
complete -c kmview -l uid -d 'With the fake root: the user id processes start with (default 0; implies -0)' -r
complete -c kmview -l gid -d 'With the fake root: the group id processes start with (default 0; implies -0)' -r
complete -c kmview -l state -d 'With the fake root: keep the record in FILE (made if missing), across runs, and share it live with every other kmview naming the same FILE (implies -0)' -r
complete -c kmview -l state-save -d 'With the fake root: when the command ends, write the record to FILE in Debian fakeroot\'s save format (what `fakeroot -s FILE` writes; implies -0)' -r
complete -c kmview -l state-load -d 'With the fake root: start from the record in FILE, in Debian fakeroot\'s save format (what `fakeroot -i FILE` reads; implies -0)' -r
complete -c kmview -l trace -d 'Write every call that crosses this view to FILE, one line per call (JSON objects, or fsatrace\'s lines with --trace-format=fsatrace); FILE is emptied first' -r
complete -c kmview -l trace-format -d 'The trace\'s format: json (default) or fsatrace (its `op|path` lines)' -r -f -a "json\t''
fsatrace\t''"
complete -c kmview -l deps -d 'When the command ends, write to FILE, as one JSON document, every path it read, wrote, executed, listed, removed, renamed or probed and found missing, with its host name' -r
complete -c kmview -s w -l cwd -d 'The starting directory inside the view' -r
complete -c kmview -l unreal -d 'The seed\'s test view: PREFIX/X and PREFIX/PREFIX/X are /X (PREFIX defaults to /unreal)' -r
complete -c kmview -l complete -d 'Complete mode: system calls a program makes without libc (Go programs, inline `syscall` instructions) are trapped in the process (syscall user dispatch, Linux 5.11) and go through the view too. `auto`: only in programs that need it (Go programs), so the rest pay nothing. A static executable cannot be followed and is refused unless --static=allow' -r -f -a "on\t''
auto\t''"
complete -c kmview -l static -d 'What to do when the command runs a static or setuid/setgid executable, which leaves the view: warn (default: one line on stderr), deny (EACCES; the default under --complete) or allow' -r -f -a "warn\t''
deny\t''
allow\t''"
complete -c kmview -s 0 -l fakeroot -d 'Fake root, as fakeroot does it but in-process: the command and its children are root (uid and gid 0) in the view, their chown, chmod and mknod are recorded and every stat reports them; files nobody chowned show as owned by root. The record lasts as long as the command'
complete -c kmview -s u -l unknown-is-real -d 'With the fake root: a file nobody chowned shows its real owner, not root (implies -0)'
complete -c kmview -l exact -d 'Resolve every path component by component in the view, so that a symlink outside every mount whose target leads into a mount, a hidden or a denied path is seen too (the default fast way leaves such a link to the kernel, which follows it on the host). Slower'
complete -c kmview -l in-view -d 'Internal: the second stage, already inside the view'
complete -c kmview -s h -l help -d 'Print help'
complete -c kmview -s V -l version -d 'Print version'
