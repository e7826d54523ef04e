import sys

from tools.toolchain import main

sys.exit(main(sys.argv[1:]))
