package consulconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// snapshotFileVersion is the format version of the snapshot file.
const snapshotFileVersion = 1

// maxSnapshotFile bounds what loadSnapshotFile reads.
const maxSnapshotFile = 256 << 20

// fileSnapshot is the on-disk form: the raw entries, so that a load builds
// exactly what Consul's answer would (documents included).
type fileSnapshot struct {
	Version int       `json:"version"`
	Prefix  string    `json:"prefix"`
	Index   uint64    `json:"index"`
	SavedAt time.Time `json:"saved_at"`
	Pairs   []pair    `json:"pairs"`
}

// writeSnapshotFile writes the snapshot to a temporary file in the same
// directory, syncs it and renames it over path, so a reader sees the old
// file or the new one, never half of one.
func writeSnapshotFile(path, prefix string, s *snapshot) error {
	data, err := json.Marshal(fileSnapshot{
		Version: snapshotFileVersion, Prefix: prefix, Index: s.index, SavedAt: time.Now().UTC(), Pairs: s.pairs,
	})
	if err != nil {
		return fmt.Errorf("consulconfig: encode snapshot: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("consulconfig: snapshot file %s: %w", path, err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		_ = tmp.Close()
		_ = os.Remove(name)
		return fmt.Errorf("consulconfig: snapshot file %s: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("consulconfig: snapshot file %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("consulconfig: snapshot file %s: %w", path, err)
	}
	return nil
}

// readSnapshotFile reads a snapshot file. A missing file is (nil, nil).
func readSnapshotFile(path string) (*fileSnapshot, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("consulconfig: snapshot file %s: %w", path, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxSnapshotFile+1)); err != nil {
		return nil, fmt.Errorf("consulconfig: snapshot file %s: %w", path, err)
	}
	if buf.Len() > maxSnapshotFile {
		return nil, fmt.Errorf("consulconfig: snapshot file %s over %d bytes", path, maxSnapshotFile)
	}
	fs, err := decodeSnapshotFile(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("consulconfig: snapshot file %s: %w", path, err)
	}
	return fs, nil
}

// decodeSnapshotFile parses and checks the file's content: a known version
// and pairs with keys, sorted and unique afterwards.
func decodeSnapshotFile(data []byte) (*fileSnapshot, error) {
	var fs fileSnapshot
	if err := json.Unmarshal(data, &fs); err != nil {
		return nil, err
	}
	if fs.Version != snapshotFileVersion {
		return nil, fmt.Errorf("unknown snapshot format version %d", fs.Version)
	}
	for _, p := range fs.Pairs {
		if p.Key == "" {
			return nil, fmt.Errorf("entry with an empty key")
		}
	}
	sort.SliceStable(fs.Pairs, func(i, j int) bool { return fs.Pairs[i].Key < fs.Pairs[j].Key })
	for i := 1; i < len(fs.Pairs); i++ {
		if fs.Pairs[i].Key == fs.Pairs[i-1].Key {
			return nil, fmt.Errorf("key %q twice", fs.Pairs[i].Key)
		}
	}
	return &fs, nil
}
