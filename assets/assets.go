// Package assets holds the files Coffer ships inside its binaries: the demo
// documents the guided tour and the demo organisation start with (and, with
// the desktop app, icons and fonts).
package assets

import "embed"

// Demo holds small sample documents, one per folder class of the demo vault,
// under demo/.
//
//go:embed demo
var Demo embed.FS
