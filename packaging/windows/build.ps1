# Builds the Windows kiosk: dist\facecheck-<version>-windows-amd64\ with
# facecheck.exe (icon and metadata from FyneApp.toml) and the OpenCV and
# MinGW DLLs beside it, and the same folder as a .zip. Run in PowerShell:
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 [-Version 1.2.3]
#
# Needs Go 1.26 and MSYS2 (https://www.msys2.org, default C:\msys64); installs
# MinGW's gcc, pkgconf, OpenCV and ntldd with pacman when they are missing.
# NOT YET PROVEN: this script has not been run on Windows (see
# packaging\README.md), and gocv v0.31.0 targets OpenCV 4.6 while MSYS2
# ships a newer 4.x.
param(
  [string]$Version = "",
  [string]$Msys = "C:\msys64"
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$root = (Get-Location).Path
$mingw = Join-Path $Msys "mingw64"
if (-not (Get-Command go -ErrorAction SilentlyContinue)) { throw "install Go 1.26 from https://go.dev/dl/" }
if (-not (Test-Path (Join-Path $Msys "usr\bin\bash.exe"))) { throw "install MSYS2 into $Msys (https://www.msys2.org) or pass -Msys DIR" }
$need = @("mingw-w64-x86_64-gcc", "mingw-w64-x86_64-pkgconf", "mingw-w64-x86_64-opencv", "mingw-w64-x86_64-ntldd")
& (Join-Path $Msys "usr\bin\bash.exe") -lc "pacman -S --needed --noconfirm $($need -join ' ')"
if ($LASTEXITCODE -ne 0) { throw "pacman failed" }

$env:PATH = "$mingw\bin;$env:PATH"
$env:CGO_ENABLED = "1"
$env:CC = "gcc"
$env:CXX = "g++"
$cv = & pkg-config --modversion opencv4
if (-not $cv.StartsWith("4.6.")) { Write-Warning "OpenCV $cv; gocv v0.31.0 is made for 4.6 (if the build fails, build OpenCV 4.6 with MinGW)" }

$commit = (git rev-parse HEAD).Trim()
$epoch = [long](git show -s --format=%ct HEAD)
$date = [DateTimeOffset]::FromUnixTimeSeconds($epoch).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ")
if (-not $Version) {
  $tag = git describe --tags --exact-match --match "v[0-9]*" 2>$null
  $Version = if ($tag) { $tag.Trim().TrimStart("v") } else { "0.1.0" }
}
$pkg = "github.com/facecheck/facecheck/internal/version"
$out = Join-Path $root "dist\facecheck-$Version-windows-amd64"
if (Test-Path $out) { Remove-Item -Recurse -Force $out }
New-Item -ItemType Directory -Force $out | Out-Null

Write-Host "build.ps1: building facecheck $Version ($commit)"
# A console program: `facecheck models fetch` and the headless kiosk print
# there, and closing the console ends the kiosk as Ctrl-C does.
go build -ldflags "-s -w -X $pkg.version=$Version -X $pkg.commit=$commit -X $pkg.date=$date" -o "$out\facecheck-raw.exe" .\cmd\facecheck
if ($LASTEXITCODE -ne 0) { throw "go build failed" }

# Icon and version resources from FyneApp.toml, with the Fyne tooling.
Push-Location cmd\facecheck
go run fyne.io/tools/cmd/fyne@v1.7.4 package -os windows --release --exe "$out\facecheck-raw.exe" --app-version ($Version -replace '[~+-].*$', '') --icon "$root\assets\icon\facecheck.png"
if ($LASTEXITCODE -ne 0) { Pop-Location; throw "fyne package failed" }
Pop-Location
Remove-Item "$out\facecheck-raw.exe"
if (Test-Path "$out\facecheck.exe") { } elseif (Test-Path "cmd\facecheck\facecheck.exe") { Move-Item "cmd\facecheck\facecheck.exe" "$out\facecheck.exe" } else { throw "fyne package left no facecheck.exe" }

# Every DLL the exe loads from MinGW (OpenCV and its dependencies) beside it.
$dlls = & ntldd -R "$out\facecheck.exe" | ForEach-Object {
  if ($_ -match '=>\s+(\S+\.dll)') { $Matches[1] }
} | Where-Object { $_ -like "$mingw*" } | Sort-Object -Unique
foreach ($d in $dlls) { Copy-Item $d $out }
Write-Host "build.ps1: $($dlls.Count) DLLs copied"
& "$out\facecheck.exe" --version
if ($LASTEXITCODE -ne 0) { throw "the built facecheck.exe does not start" }
Copy-Item LICENSE, NOTICE $out

$zip = "$out.zip"
if (Test-Path $zip) { Remove-Item $zip }
Compress-Archive -Path $out -DestinationPath $zip
Write-Host "build.ps1: $zip"
