//go:build !linux

package blob

import "os"

// syncFileSystem makes the files in dirs and their directory entries
// durable: without syncfs(2), every file and directory is synced.
func syncFileSystem(root string, dirs []string) error {
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			f, err := os.Open(dir + string(os.PathSeparator) + e.Name())
			if err != nil {
				return err
			}
			err = f.Sync()
			f.Close()
			if err != nil {
				return err
			}
		}
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}
