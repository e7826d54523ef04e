import sys

from tools.aptsources import main

sys.exit(main(sys.argv[1:]))
