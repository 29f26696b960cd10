package gallery

// SetSnapshotChunk makes LoadSnapshot cut snapshots into chunks of about
// n bytes until restore is called, so that small test snapshots span many
// chunks (test hook).
func SetSnapshotChunk(n int) (restore func()) {
	saved := snapshotChunk
	snapshotChunk = n
	return func() { snapshotChunk = saved }
}
