package blob

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFileSystem makes every write to the file system holding root durable
// with one syncfs(2), which covers the files and the directory entries
// written since (dirs is not needed on Linux).
func syncFileSystem(root string, dirs []string) error {
	f, err := os.Open(root)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
