; The Windows installer of Coffer (NSIS, cross-built on Linux with makensis).
; packaging/build.sh passes VERSION, NUMERIC_VERSION (a.b.c.d), EXE (the
; signed Coffer.exe), OUTFILE and SIGN (the command that signs a file in
; place, used on the uninstaller before it is packed).
;
; Per-machine: C:\Program Files\Coffer, a Start menu entry for all users, an
; entry in Settings → Apps (Programs and Features) whose uninstaller removes
; every file and key it added. Vaults are the users' data, in their profiles:
; uninstalling never touches them (a remote wipe does).
; Silent: Coffer-<version>-setup.exe /S, uninstall: Uninstall.exe /S.

; A 64-bit installer for a 64-bit program: Program Files and the registry
; are the native 64-bit ones, and it does not start on 32-bit Windows at all.
Target amd64-unicode
!include "MUI2.nsh"

!define APP "Coffer"
!define PUBLISHER "Coffer developers"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Coffer"

Name "${APP}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP}"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
ManifestDPIAware true
BrandingText "${APP} ${VERSION}"

; The uninstaller is written inside the installer: sign it before it is, and
; stop if that fails (without "= 0" makensis ignores the exit status).
!uninstfinalize '${SIGN} "%1"' = 0

VIProductVersion "${NUMERIC_VERSION}"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${NUMERIC_VERSION}"
VIAddVersionKey "FileDescription" "${APP} installer"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\Coffer.exe"
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Section "Coffer" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "/oname=Coffer.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\Uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\Coffer.exe" "" "$INSTDIR\Coffer.exe" 0

  WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "${APP}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINSTKEY}" "URLInfoAbout" "https://github.com/coffer-vault/coffer"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\Coffer.exe"
  WriteRegStr HKLM "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKLM "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
  SectionGetSize ${SecMain} $0
  WriteRegDWORD HKLM "${UNINSTKEY}" "EstimatedSize" $0
SectionEnd

Section "Uninstall"
  Delete "$SMPROGRAMS\${APP}.lnk"
  Delete "$INSTDIR\Coffer.exe"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTKEY}"
SectionEnd
