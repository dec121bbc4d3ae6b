package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// outputs stages the files and directories a command writes: each is
// written under a temporary name beside its final path (same file
// system) and renamed into place by commit, all together, only when the
// command succeeded. cleanup removes whatever is still staged, so an
// error or an interrupt leaves nothing behind.
type outputs struct {
	items []stagedOutput
}

type stagedOutput struct {
	tmp, final string
	dir        bool
}

// file reserves a temporary file beside final (checking now that its
// directory exists and is writable) and returns its path.
func (o *outputs) file(final string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("cannot write %s: %w", final, err)
	}
	f.Close()
	o.items = append(o.items, stagedOutput{tmp: f.Name(), final: final})
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// dir returns a path beside final, not yet existing, for a directory to
// be built there. final's parent is created if needed.
func (o *outputs) dir(final string) (string, error) {
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("cannot write %s: %w", final, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("cannot write %s: %w", final, err)
	}
	o.items = append(o.items, stagedOutput{tmp: tmp, final: final, dir: true})
	return filepath.Join(tmp, filepath.Base(final)), nil
}

// commit moves every staged output into place, replacing what was there.
func (o *outputs) commit() error {
	for _, it := range o.items {
		src := it.tmp
		if it.dir {
			src = filepath.Join(it.tmp, filepath.Base(it.final))
			if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
				continue // nothing was written there
			}
			old := it.tmp + ".old"
			if err := os.Rename(it.final, old); err == nil {
				defer os.RemoveAll(old)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("replace %s: %w", it.final, err)
			}
		}
		if err := os.Rename(src, it.final); err != nil {
			return fmt.Errorf("write %s: %w", it.final, err)
		}
	}
	return nil
}

// cleanup removes the staged outputs (all of them unless commit ran).
func (o *outputs) cleanup() {
	for _, it := range o.items {
		os.RemoveAll(it.tmp)
	}
}
