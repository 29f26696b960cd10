package gallery

// SetSnapshotChunk makes LoadSnapshot cut snapshots into chunks of about
// n bytes until restore is called, so that small test snapshots span many
// chunks (test hook).
func SetSnapshotChunk(n int) (restore func()) {
	saved := snapshotChunk
	snapshotChunk = n
	return func() { snapshotChunk = saved }
}

// SetPruning turns off (or on) the exact stage's dropping of candidates
// that cannot be returned, until restore is called (test hook).
func SetPruning(on bool) (restore func()) {
	saved := pruneExactStage
	pruneExactStage = on
	return func() { pruneExactStage = saved }
}
