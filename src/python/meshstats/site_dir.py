"""Print where `meson install` puts the meshstats package for this python
(the one meson runs under: Debian's /usr/bin/python3 for Debian's meson):
the first of its sys.path entries under PREFIX (for /usr/local, the
/usr/local/lib/python3.X/dist-packages Debian's python3 reads), else
PREFIX's lib/python3.X/site-packages (then set PYTHONPATH).  A python
running in a virtualenv gets the virtualenv's own site directory.
Usage: site_dir.py PREFIX
"""
import os
import sys
import sysconfig

prefix = os.path.abspath(sys.argv[1])
if sys.prefix != sys.base_prefix:
    print(sysconfig.get_path("platlib"))
    sys.exit(0)
for entry in sys.path:
    if entry.startswith(prefix + os.sep) and entry.endswith("-packages") \
            and "python3" in entry:
        print(entry)
        sys.exit(0)
print(sysconfig.get_path("platlib", "posix_prefix",
                         vars={"base": prefix, "platbase": prefix}))
