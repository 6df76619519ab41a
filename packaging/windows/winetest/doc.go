// Package winetest holds the Windows smoke test: packaging/windows/cross-build.sh
// builds the Windows kiosk and server with MinGW-w64 on Linux, and the test
// installs them under Wine and runs them (TestWine). It is slow (a cold
// build compiles OpenCV) and needs root for its apt packages, so it runs
// only with FACECHECK_WINE=1; normal CI skips it. The package has no code
// besides the test.
package winetest
