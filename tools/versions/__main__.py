import sys

from tools.versions import main

sys.exit(main(sys.argv[1:]))
