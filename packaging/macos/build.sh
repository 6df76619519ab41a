#!/usr/bin/env bash
# Builds the macOS kiosk: dist/facecheck.app (OpenCV's dylibs inside) and
# dist/facecheck-<version>-macos-<arch>.dmg. Run on a Mac, from anywhere:
#
#   packaging/macos/build.sh            # VERSION=1.2.3 to name the version
#
# Needs Go 1.26, Xcode's command line tools and Homebrew; installs
# opencv, pkg-config and dylibbundler with brew when they are missing.
# NOT YET PROVEN: this script has not been run on a Mac (see
# packaging/README.md), and gocv v0.31.0 targets OpenCV 4.6 while Homebrew
# ships a newer 4.x.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf 'build.sh: %s\n' "$*" >&2; }
[[ $(uname -s) == Darwin ]] || { say "run this on macOS (Linux: scripts/package)"; exit 1; }
command -v go >/dev/null || { say "install Go 1.26 from https://go.dev/dl/"; exit 1; }
command -v brew >/dev/null || { say "install Homebrew from https://brew.sh"; exit 1; }
for f in opencv pkg-config dylibbundler; do
  brew list --formula "$f" >/dev/null 2>&1 || brew install "$f"
done
cv=$(pkg-config --modversion opencv4)
[[ $cv == 4.6.* ]] || say "warning: OpenCV $cv; gocv v0.31.0 is made for 4.6 (if the build fails, build OpenCV 4.6 from source)"

arch=$(uname -m)
commit=$(git rev-parse HEAD)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git show -s --format=%ct HEAD)}
date=$(date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
VERSION=${VERSION:-$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null | sed 's/^v//' || true)}
VERSION=${VERSION:-0.1.0}
pkg=github.com/facecheck/facecheck/internal/version

out=$PWD/dist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
say "building facecheck $VERSION ($commit) for $arch"
CGO_ENABLED=1 go build -ldflags "-s -w -X $pkg.version=$VERSION -X $pkg.commit=$commit -X $pkg.date=$date" \
  -o "$work/facecheck" ./cmd/facecheck

# The .app from FyneApp.toml (name, id, icon) with the Fyne tooling.
(cd cmd/facecheck && go run fyne.io/tools/cmd/fyne@v1.7.4 package -os darwin --release \
  --exe "$work/facecheck" --app-version "${VERSION%%[~+-]*}" --icon "$PWD/../../assets/icon/facecheck.png")
rm -rf "$out/facecheck.app"
mv cmd/facecheck/facecheck.app "$out/facecheck.app"
app=$out/facecheck.app
# macOS asks the user before a program may use the camera, with this text.
plutil -replace NSCameraUsageDescription -string "facecheck looks at attendees walking up to check them in." "$app/Contents/Info.plist"

# OpenCV's dylibs (and theirs) into the bundle, the binary pointed at them.
dylibbundler --overwrite-dir --bundle-deps --create-dir \
  --fix-file "$app/Contents/MacOS/facecheck" \
  --dest-dir "$app/Contents/Frameworks" --install-path @executable_path/../Frameworks/ >/dev/null
# An ad-hoc signature (changed binaries must be re-signed to run on Apple
# silicon); a Developer ID and notarisation are needed to ship it.
codesign --force --deep --sign - "$app"
otool -L "$app/Contents/MacOS/facecheck" | grep -q /opt/homebrew/ && { say "a dylib still points into Homebrew"; exit 1; }
"$app/Contents/MacOS/facecheck" --version

dmg=$out/facecheck-$VERSION-macos-$arch.dmg
hdiutil create -volname facecheck -srcfolder "$app" -ov -format UDZO "$dmg" >/dev/null
say "$(du -h "$dmg" | cut -f1)  $dmg"
