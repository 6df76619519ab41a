#!/usr/bin/env bash
# Cross-builds the Windows kiosk and server on Debian 12 (amd64) with
# MinGW-w64, from Debian packages and Debian source packages only:
#
#   dist/facecheck-<version>-windows-amd64/         facecheck.exe, facecheck-server.exe, DLLs, licences, README.txt
#   dist/facecheck-<version>-windows-amd64.zip      that folder
#   dist/facecheck-<version>-windows-amd64-installer.exe NSIS installer (Program Files, Start menu, uninstaller)
#
#   packaging/windows/cross-build.sh               everything
#   packaging/windows/cross-build.sh libs          only the cross-built libraries (cached)
#   VERSION=1.2.3 packaging/windows/cross-build.sh an explicit version
#   FACECHECK_WINE=1 ...                           also installs Wine and Xvfb (for the Wine test)
#
# The libraries (zlib from libz-mingw-w64-dev; libjpeg-turbo, libpng,
# protobuf and OpenCV 4.6 built from Debian's source packages) are built
# once into ~/.cache/facecheck/mingw/<versions>/ (FACECHECK_MINGW_CACHE
# overrides the parent directory); later runs only build the Go programs.
# OpenCV is built as DLLs with just the modules gocv v0.31.0's Go package
# compiles (its .cpp files include the headers of these modules), without
# FFmpeg: video files are read and written by OpenCV's built-in MJPEG AVI
# code. As root it installs the Debian packages it needs (apt-get).
# JOBS (default 2) limits parallel compiles; the build runs under nice.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
say() { printf 'cross-build: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
jobs=${JOBS:-2}
what=${1:-all}
case $what in all | libs) ;; *) die "usage: $0 [all|libs]" ;; esac

# --- Debian packages -----------------------------------------------------
need=(gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 libz-mingw-w64-dev cmake ninja-build
  protobuf-compiler dpkg-dev xz-utils nsis zip imagemagick)
# The Wine smoke test (packaging/windows/winetest, FACECHECK_WINE=1) runs
# the programs under Wine on Xvfb.
[[ ${FACECHECK_WINE:-} == 1 ]] && need+=(wine64 wine xvfb x11-apps)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "install first: apt-get install ${missing[*]}"
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
command -v go >/dev/null || die "Go not found (https://go.dev/dl/)"

# The posix-thread variant of MinGW's GCC: OpenCV needs std::thread and
# std::mutex, which the win32-thread variant (Debian's default alternative)
# lacks in GCC 12.
host=x86_64-w64-mingw32
cc=$host-gcc-posix
cxx=$host-g++-posix
gccver=$($cc -dumpversion)
gcclib=$(dirname "$($cc -print-libgcc-file-name)")
sysroot=/usr/$host

# --- Debian source packages ------------------------------------------------
cache=${FACECHECK_MINGW_CACHE:-$HOME/.cache/facecheck/mingw}
src=$cache/src
mkdir -p "$src/apt/lists/partial" "$src/apt/cache/archives/partial"
# A private apt configuration with deb-src lines, so the machine's own
# sources.list is left alone.
cat >"$src/apt/sources.list" <<'EOF'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
EOF
apt_opts=(-o "Dir::Etc::SourceList=$src/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::State::Lists=$src/apt/lists" -o "Dir::Cache=$src/apt/cache" -o APT::Sandbox::User=root)

# srcdir PKG: the unpacked Debian source tree of PKG (fetched once), on stdout.
srcdir() {
  local pkg=$1 d
  d=$(find "$src" -maxdepth 1 -type d -name "$pkg-[0-9]*" | sort | tail -n1)
  if [[ -z $d ]]; then
    [[ -n $(find "$src/apt/lists" -name '*Sources*' -print -quit) ]] || apt-get "${apt_opts[@]}" update >&2
    # The security suite's newest version is sometimes missing from the
    # mirror's pool for a while; bookworm's own version is then used.
    (cd "$src" && { apt-get "${apt_opts[@]}" source "$pkg" >&2 || apt-get "${apt_opts[@]}" source "$pkg/bookworm" >&2; })
    d=$(find "$src" -maxdepth 1 -type d -name "$pkg-[0-9]*" | sort | tail -n1)
  fi
  [[ -n $d ]] || die "apt-get source $pkg left no source tree in $src"
  printf '%s\n' "$d"
}
# debver DIR: the Debian version of an unpacked source tree.
debver() { dpkg-parsechangelog -l "$1/debian/changelog" -S Version; }

cv_src=$(srcdir opencv)
pb_src=$(srcdir protobuf)
jpeg_src=$(srcdir libjpeg-turbo)
png_src=$(srcdir libpng1.6)
zlib_ver=$(dpkg-query -W -f='${Version}' libz-mingw-w64-dev)
# Bump recipe when the build options below change, so the cache is rebuilt.
recipe=1
key="opencv$(debver "$cv_src")_protobuf$(debver "$pb_src")_jpeg$(debver "$jpeg_src")_png$(debver "$png_src")_zlib${zlib_ver}_gcc${gccver}_r$recipe"
key=${key//[^A-Za-z0-9._+-]/_}
prefix=$cache/$key
build=$cache/build-$key
mkdir -p "$prefix" "$build"
say "libraries: $prefix"

tc=$build/toolchain.cmake
cat >"$tc" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER $cc)
set(CMAKE_CXX_COMPILER $cxx)
set(CMAKE_RC_COMPILER $host-windres)
set(CMAKE_FIND_ROOT_PATH $sysroot $prefix)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF

# cmake_build NAME SRC [cmake args...]: configure, build and install one
# library into $prefix, once (a stamp file marks it done).
cmake_build() {
  local name=$1 dir=$2
  shift 2
  [[ -f $prefix/.$name.done ]] && return 0
  say "building $name (log: $build/$name.log)"
  local t0=$SECONDS
  # An existing build directory is reconfigured, not removed: an
  # interrupted build resumes where it stopped.
  {
    nice -n 10 cmake -S "$dir" -B "$build/$name" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$tc" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" "$@" &&
      nice -n 10 cmake --build "$build/$name" -j "$jobs" &&
      cmake --install "$build/$name"
  } >"$build/$name.log" 2>&1 || { tail -n 40 "$build/$name.log" >&2; die "$name failed; see $build/$name.log"; }
  touch "$prefix/.$name.done"
  say "built $name in $((SECONDS - t0)) s"
}

cmake_build libjpeg-turbo "$jpeg_src" -DENABLE_SHARED=OFF -DENABLE_STATIC=ON -DWITH_TURBOJPEG=OFF \
  -DWITH_SIMD=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON
cmake_build libpng "$png_src" -DPNG_SHARED=OFF -DPNG_STATIC=ON -DPNG_TESTS=OFF -DPNG_EXECUTABLES=OFF \
  -DZLIB_LIBRARY="$sysroot/lib/libz.a" -DZLIB_INCLUDE_DIR="$sysroot/include"
# Only the runtime library: OpenCV regenerates its .pb.cc files with
# Debian's protoc of the same version (protobuf-compiler).
cmake_build protobuf "$pb_src" -Dprotobuf_BUILD_TESTS=OFF -Dprotobuf_BUILD_PROTOC_BINARIES=OFF \
  -Dprotobuf_BUILD_SHARED_LIBS=OFF -Dprotobuf_WITH_ZLIB=OFF -Dprotobuf_BUILD_LIBPROTOC=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
# The modules gocv v0.31.0 compiles (flann comes in as a dependency).
# OpenMP is the parallel framework: OpenCV's pthreads one is for Unix only
# and leaves a MinGW build single-threaded ("Parallel framework: none").
# CPU dispatch stops at SSE4.2: MinGW's GCC does not align the stack for
# AVX spills (GCC bug 54412), so AVX kernels could crash on Windows.
cmake_build opencv "$cv_src" -DBUILD_SHARED_LIBS=ON "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
  "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" \
  -DBUILD_LIST=core,imgproc,imgcodecs,videoio,highgui,objdetect,dnn,features2d,calib3d,photo,video \
  -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_opencv_apps=OFF -DBUILD_DOCS=OFF \
  -DBUILD_JAVA=OFF -DBUILD_opencv_python2=OFF -DBUILD_opencv_python3=OFF -DBUILD_opencv_world=OFF \
  -DBUILD_INFO_SKIP_TIMESTAMP=ON -DOPENCV_GENERATE_PKGCONFIG=OFF \
  -DCPU_BASELINE=SSE3 "-DCPU_DISPATCH=SSE4_1;SSE4_2" \
  -DBUILD_ZLIB=OFF -DZLIB_LIBRARY="$sysroot/lib/libz.a" -DZLIB_INCLUDE_DIR="$sysroot/include" \
  -DWITH_JPEG=ON -DBUILD_JPEG=OFF -DJPEG_LIBRARY="$prefix/lib/libjpeg.a" -DJPEG_INCLUDE_DIR="$prefix/include" \
  -DWITH_PNG=ON -DBUILD_PNG=OFF -DPNG_LIBRARY="$prefix/lib/libpng16.a" -DPNG_PNG_INCLUDE_DIR="$prefix/include" \
  -DWITH_PROTOBUF=ON -DBUILD_PROTOBUF=OFF -DPROTOBUF_UPDATE_FILES=ON \
  -DProtobuf_INCLUDE_DIR="$prefix/include" -DProtobuf_LIBRARY="$prefix/lib/libprotobuf.a" \
  -DProtobuf_PROTOC_EXECUTABLE=/usr/bin/protoc \
  -DWITH_FFMPEG=OFF -DWITH_GSTREAMER=OFF -DWITH_TIFF=OFF -DWITH_WEBP=OFF -DWITH_OPENJPEG=OFF \
  -DWITH_JASPER=OFF -DWITH_OPENEXR=OFF -DWITH_IPP=OFF -DWITH_ITT=OFF -DWITH_OPENCL=OFF -DWITH_LAPACK=OFF \
  -DWITH_EIGEN=OFF -DWITH_QUIRC=OFF -DWITH_ADE=OFF -DWITH_VTK=OFF -DWITH_GTK=OFF -DWITH_QT=OFF \
  -DWITH_OPENGL=OFF -DWITH_WIN32UI=ON -DWITH_DSHOW=ON -DWITH_MSMF=OFF -DWITH_OBSENSOR=OFF \
  -DWITH_PTHREADS_PF=OFF -DWITH_OPENMP=ON -DWITH_TBB=OFF -DWITH_IMGCODEC_HDR=OFF -DWITH_IMGCODEC_SUNRASTER=OFF \
  -DWITH_IMGCODEC_PFM=OFF -DVIDEOIO_ENABLE_PLUGINS=OFF -DHIGHGUI_ENABLE_PLUGINS=OFF -DOPENCV_DNN_OPENCL=OFF \
  -DOPENCV_SKIP_PYTHON_LOADER=ON
[[ $what == libs ]] && exit 0

# --- facecheck.exe and facecheck-server.exe --------------------------------
cvbin=$(dirname "$(find "$prefix" -name 'libopencv_core*.dll' -print -quit)")
cvlib=$(dirname "$(find "$prefix" -name 'libopencv_core*.dll.a' -print -quit)")
cvinc=$(dirname "$(find "$prefix" -path '*/opencv2/opencv.hpp' -print -quit)")
[[ -d $cvbin && -d $cvlib && -d $cvinc ]] || die "no OpenCV DLLs, import libraries or headers in $prefix"
cvinc=$(dirname "$cvinc")
cvsuffix=$(basename "$(find "$cvlib" -name 'libopencv_core*.dll.a' -print -quit)")
cvsuffix=${cvsuffix#libopencv_core}
cvsuffix=${cvsuffix%.dll.a}
ldlibs="-L$cvlib"
for m in core imgproc imgcodecs videoio highgui objdetect dnn features2d calib3d photo video flann; do
  ldlibs+=" -lopencv_$m$cvsuffix"
done

commit=$(git rev-parse HEAD)
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then commit+="+dirty"; fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git show -s --format=%ct HEAD)}
date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
if [[ -z ${VERSION:-} ]]; then
  if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
    VERSION=${tag#v}
  else
    VERSION=0.1.0~git$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d).$(git rev-parse --short=12 HEAD)
  fi
fi
[[ $VERSION =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "VERSION=$VERSION is not a version"
# Windows' numeric file version: the X.Y.Z before any ~ or +, then .0.
winver=$(sed -E 's/^([0-9]+(\.[0-9]+){0,2}).*/\1/' <<<"$VERSION")
while [[ $(tr -cd . <<<"$winver" | wc -c) -lt 3 ]]; do winver+=.0; done

name=facecheck-$VERSION-windows-amd64
dist=$root/dist
out=$dist/$name
rm -rf "$out"
mkdir -p "$out/licenses"

# Icon and version resources, as .syso files the Go linker takes from the
# package directories (removed after the build).
res=$(mktemp -d)
sysos=(cmd/facecheck/zz_crossbuild_windows_amd64.syso cmd/facecheck-server/zz_crossbuild_windows_amd64.syso)
trap 'rm -rf "$res"; rm -f "${sysos[@]}"' EXIT
convert assets/icon/facecheck.png -define icon:auto-resize=256,64,48,32,16 "$res/facecheck.ico"
for syso in "${sysos[@]}"; do
  prog=$(basename "$(dirname "$syso")")
  cat >"$res/$prog.rc" <<RC
#include <winver.h>
1 ICON "$res/facecheck.ico"
VS_VERSION_INFO VERSIONINFO
FILEVERSION ${winver//./,}
PRODUCTVERSION ${winver//./,}
FILEOS VOS_NT_WINDOWS32
FILETYPE VFT_APP
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "facecheck"
      VALUE "FileDescription", "$prog: face-recognition check-in"
      VALUE "FileVersion", "$VERSION"
      VALUE "ProductName", "facecheck"
      VALUE "ProductVersion", "$VERSION"
      VALUE "OriginalFilename", "$prog.exe"
      VALUE "LegalCopyright", "MIT licence"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
RC
  $host-windres -O coff -o "$syso" "$res/$prog.rc"
done

pkg=github.com/facecheck/facecheck/internal/version
say "building $name ($commit)"
t0=$SECONDS
# customenv: gocv takes its flags from CGO_* instead of its own
# (pkg-config, or C:/opencv paths on Windows). Console programs: the
# headless kiosk and `models fetch` print there, and closing the console
# ends the kiosk as Ctrl-C does.
CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$cc CXX=$cxx \
  CGO_CPPFLAGS="-I$cvinc" CGO_CXXFLAGS="-O2 -std=c++11" CGO_LDFLAGS="$ldlibs" \
  nice -n 10 go build -p "$jobs" -tags customenv -buildvcs=false -trimpath \
  -ldflags "-s -w -X $pkg.version=$VERSION -X $pkg.commit=$commit -X $pkg.date=$date" \
  -o "$out/" ./cmd/facecheck ./cmd/facecheck-server
say "go build: $((SECONDS - t0)) s"
rm -f "${sysos[@]}"

# Every DLL the programs load that is not Windows' own, found among the
# cross-built OpenCV and MinGW's runtime, beside the programs.
dlldirs=("$cvbin" "$prefix/bin" "$gcclib" "$sysroot/lib" "$sysroot/bin")
imports() { $host-objdump -p "$1" | sed -n 's/^[[:space:]]*DLL Name: //p'; }
declare -A seen=()
queue=("$out/facecheck.exe" "$out/facecheck-server.exe")
while ((${#queue[@]})); do
  f=${queue[0]}
  queue=("${queue[@]:1}")
  while IFS= read -r dll; do
    lc=${dll,,}
    [[ -n ${seen[$lc]:-} ]] && continue
    seen[$lc]=1
    found=
    for d in "${dlldirs[@]}"; do
      found=$(find "$d" -maxdepth 1 -iname "$dll" -print -quit 2>/dev/null)
      [[ -n $found ]] && break
    done
    [[ -z $found ]] && continue # a Windows system DLL
    cp "$found" "$out/"
    queue+=("$out/$(basename "$found")")
  done < <(imports "$f")
done
$host-strip --strip-unneeded "$out"/*.dll

# Licences: facecheck's, and the Debian copyright file of every library
# shipped (OpenCV, protobuf, libjpeg-turbo, libpng, zlib, MinGW's GCC
# runtime and winpthreads).
cp LICENSE NOTICE "$out/licenses/"
cp "$cv_src/debian/copyright" "$out/licenses/opencv.copyright"
cp "$pb_src/debian/copyright" "$out/licenses/protobuf.copyright"
cp "$jpeg_src/debian/copyright" "$out/licenses/libjpeg-turbo.copyright"
cp "$png_src/debian/copyright" "$out/licenses/libpng.copyright"
cp /usr/share/doc/libz-mingw-w64/copyright "$out/licenses/zlib.copyright"
cp /usr/share/doc/gcc-mingw-w64-base/copyright "$out/licenses/gcc-runtime.copyright"
cp /usr/share/doc/mingw-w64-x86-64-dev/copyright "$out/licenses/mingw-w64.copyright"
sed -e "s/@VERSION@/$VERSION/" -e "s/@COMMIT@/$commit/" packaging/windows/README.txt | sed 's/$/\r/' >"$out/README.txt"

# The zip (fixed dates and order, so two builds of one commit agree).
zip=$dist/$name.zip
rm -f "$zip"
find "$out" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$dist" && find "$name" -print | LC_ALL=C sort | TZ=UTC zip -X -q -9 "$zip" -@)
say "$zip: $(stat -c %s "$zip") bytes"

# The installer.
installer=$dist/$name-installer.exe
rm -f "$installer"
uninst=$res/uninstall.nsh
(cd "$out" && find . -type f | LC_ALL=C sort -r | sed 's#^\./##; s#/#\\#g; s#.*#  Delete "$INSTDIR\\&"#'
  find . -mindepth 1 -type d | LC_ALL=C sort -r | sed 's#^\./##; s#/#\\#g; s#.*#  RMDir "$INSTDIR\\&"#') >"$uninst"
makensis -V2 -INPUTCHARSET UTF8 -DVERSION="$VERSION" -DWINVERSION="$winver" -DSRCDIR="$out" \
  -DUNINSTLIST="$uninst" -DOUTFILE="$installer" packaging/windows/installer.nsi >&2
say "$installer: $(stat -c %s "$installer") bytes"
