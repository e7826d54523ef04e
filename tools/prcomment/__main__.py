import sys

from tools.prcomment import main

sys.exit(main(sys.argv[1:]))
