package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/sqlstore"
	"github.com/huella-abis/huella/storetest"
)

// TestSweepsUseIndexes checks migration 19: the sign-in's sweep of
// expired sessions and the rate limiter's sweep of old windows search
// indexes rather than scan their tables.
func TestSweepsUseIndexes(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "huella.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := storetest.Context()
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{sqlstore.SessionSweep, []string{"console_sessions_seen", "console_sessions_started"}},
		{`DELETE FROM rate_limits WHERE window_start < ?`, []string{"rate_limits_window"}},
	} {
		rows, err := s.write.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		for _, index := range tc.want {
			if !strings.Contains(got, "INDEX "+index) {
				t.Errorf("%s: plan %q does not use index %s", tc.query, got, index)
			}
		}
		if strings.Contains(got, "SCAN ") && !strings.Contains(got, "USING") {
			t.Errorf("%s: plan %q scans the table", tc.query, got)
		}
	}
}
