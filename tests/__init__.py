"""The test suites. A package so that every suite imports the helpers they share as
`tests.support` (pytest.ini puts the repository root on the import path); the suites themselves
are plain directories, each run on its own by scripts/test.sh."""
