import sys

from tools.s3 import main

sys.exit(main(sys.argv[1:]))
