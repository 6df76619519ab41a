// Package packaging holds what turns facecheck into installable packages
// (linux/: the Debian packages scripts/package builds; macos/ and
// windows/: the build scripts for those systems) and the test that keeps
// the code portable: every package that builds without cgo must build
// and vet for Windows and macOS too (TestCrossBuild).
package packaging
