"""Entry point of the leanstack component package: the Python language host runs this directory."""

from leanstack.package import main

if __name__ == "__main__":
    main()
