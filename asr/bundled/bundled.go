package bundled

import (
	"embed"
	"io/fs"
)

// files holds model/: the bundled model directory (and its README).
//
//go:embed model
var files embed.FS

// FS returns the bundled model directory: manifest.json and
// weights.safetensors at its root when a model has been bundled.
func FS() fs.FS {
	sub, err := fs.Sub(files, "model")
	if err != nil {
		// fs.Sub only fails for an invalid path, and "model" is valid.
		panic(err)
	}
	return sub
}
