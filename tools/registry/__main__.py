import sys

from tools.registry import main

sys.exit(main(sys.argv[1:]))
