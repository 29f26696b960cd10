package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
)

// minSweepGrace is the least age of a blob the orphan sweep may delete: an
// enrollment stores its images a moment before its records.
const minSweepGrace = time.Hour

// runPurge runs "huella purge": erase one subject on order, every subject
// whose retention period has ended, or the blobs no record names. It
// prints counts, never names or other personal data.
func runPurge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.registerFlags(fs, false)
	subject := fs.String("subject", "", "purge this subject (and those merged into it)")
	reason := fs.String("reason", "", "why, with --subject: court-order, data-protection-request or enrollment-error")
	olderThan := fs.String("older-than", "", "purge every subject last seen longer ago than this, e.g. 10y, 400d, 52w")
	orphans := fs.Bool("orphans", false, "delete the blobs no record names (left by a crash mid-purge or a failed enrollment)")
	grace := fs.Duration("grace", 24*time.Hour, "with --orphans: keep blobs written more recently than this (at least 1h)")
	dryRun := fs.Bool("dry-run", false, "with --older-than or --orphans: print what would be done, do nothing")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  huella purge --subject ID --reason REASON
  huella purge --older-than DURATION [--dry-run]
  huella purge --orphans [--grace 24h] [--dry-run]

Retention (--older-than) purges the subjects whose last encounter, theirs
or of a subject merged into them, was captured before now minus DURATION.
It holds back subjects with a hit still waiting for an examiner, and
subjects with a declared conviction (criminal-record retention is set by
other law: purge those one by one, on order). A server running meanwhile,
and its matchers, drop the purged subjects from their galleries within a
second: the purge writes a gallery event that the server reads (and
relays to the matchers' stream with --matchers).

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	modes := 0
	for _, set := range []bool{*subject != "", *olderThan != "", *orphans} {
		if set {
			modes++
		}
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("purge: unexpected argument %q", fs.Arg(0))
	case modes != 1:
		return errors.New("purge: give exactly one of --subject, --older-than or --orphans")
	case *subject != "" && *dryRun:
		return errors.New("purge: --dry-run goes with --older-than or --orphans")
	case *reason != "" && *subject == "":
		return errors.New("purge: --reason goes with --subject (retention purges give reason retention)")
	}
	var cutoff time.Time
	if *olderThan != "" {
		var err error
		if cutoff, err = retentionCutoff(time.Now(), *olderThan); err != nil {
			return fmt.Errorf("purge: --older-than: %w", err)
		}
	}
	if *subject != "" {
		if err := huella.PurgeReason(*reason).Validate(); err != nil {
			return fmt.Errorf("purge: --reason: %s", huella.ErrorMessage(err))
		}
	}
	if *orphans && *grace < minSweepGrace {
		return fmt.Errorf("purge: --grace must be at least %s: an enrollment stores its images before its records", minSweepGrace)
	}
	cfg.Existing = true // works on records already there; never creates data
	app, err := OpenApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	ctx = systemContext(ctx, huella.PurposeAdministration)
	switch {
	case *subject != "":
		p, err := app.Enroll.PurgeSubject(ctx, *subject, huella.PurgeReason(*reason))
		if err != nil {
			return fmt.Errorf("purge: %s", huella.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "purged subject %s (%s): %s\n", p.SubjectID, p.Reason, purgeCounts([]*huella.Purge{p}))
	case *olderThan != "":
		return purgeExpired(ctx, app, cutoff, *dryRun, stdout, stderr)
	default:
		r, err := app.Blobs.Sweep(ctx, time.Now().Add(-*grace), app.Store.ForEachBlobRef, *dryRun)
		if err != nil {
			return fmt.Errorf("purge: %w", err)
		}
		verb := "deleted"
		if *dryRun {
			verb = "dry run, would delete"
		}
		fmt.Fprintf(stdout, "blobs: %d examined, %d orphans (%d bytes), %d temporary files; %s %d\n",
			r.Blobs, r.Orphans, r.Bytes, r.Temporary, verb, r.Orphans+r.Temporary)
	}
	return nil
}

// purgeExpired purges, one transaction each, the subjects last seen
// before cutoff that are not held back, with progress on stderr.
func purgeExpired(ctx context.Context, app *App, cutoff time.Time, dryRun bool, stdout, stderr io.Writer) error {
	expired, err := app.Store.ExpiredSubjects(ctx, cutoff)
	if err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	fmt.Fprintf(stdout, "retention: subjects last seen before %s: %d to purge; held back: %d with a pending hit, %d with a declared conviction\n",
		cutoff.UTC().Format(time.DateOnly), len(expired.Subjects), expired.HeldPendingHit, expired.HeldConviction)
	if dryRun {
		fmt.Fprintln(stdout, "dry run: nothing purged")
		return nil
	}
	var done []*huella.Purge
	progress := newProgress(stderr, "purge", len(expired.Subjects))
	defer progress.Done()
	for _, id := range expired.Subjects {
		progress.Add(1)
		p, err := app.Enroll.PurgeSubject(ctx, id, huella.PurgeRetention)
		switch huella.ErrorCode(err) {
		case "":
			done = append(done, p)
		case huella.ENOTFOUND, huella.ECONFLICT:
			// Purged or merged by someone else since the search.
		default:
			fmt.Fprintf(stdout, "purged %d subjects before the error: %s\n", len(done), purgeCounts(done))
			return fmt.Errorf("purge: subject %s: %w", id, err)
		}
	}
	fmt.Fprintf(stdout, "purged %d subjects: %s\n", len(done), purgeCounts(done))
	return nil
}

// purgeCounts sums the purges' counts.
func purgeCounts(list []*huella.Purge) string {
	var sum huella.Purge
	subjects := 0
	for _, p := range list {
		subjects += len(p.Subjects)
		sum.Encounters += p.Encounters
		sum.Samples += p.Samples
		sum.SMTs += p.SMTs
		sum.Hits += p.Hits
		sum.Deliveries += p.Deliveries
		sum.Blobs = append(sum.Blobs, p.Blobs...)
	}
	return fmt.Sprintf("%d subjects with merged ones, %d encounters, %d samples, %d SMTs, %d hits, %d deliveries parked, %d blobs deleted",
		subjects, sum.Encounters, sum.Samples, sum.SMTs, sum.Hits, sum.Deliveries, len(sum.Blobs))
}

// retentionCutoff returns now less the age, written as a whole number of
// years (10y), weeks (52w) or days (400d), or several of them (1y6w).
// Years and days are calendar ones: 10y back from 2026-11-26 is
// 2016-11-26, whatever the leap days.
func retentionCutoff(now time.Time, age string) (time.Time, error) {
	rest := strings.TrimSpace(age)
	if rest == "" {
		return time.Time{}, errors.New("empty duration")
	}
	var years, days int
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return time.Time{}, fmt.Errorf("%q is not a duration such as 10y, 52w or 400d", age)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 200*366 {
			return time.Time{}, fmt.Errorf("%q is out of range", age)
		}
		switch rest[i] {
		case 'y':
			years += n
		case 'w':
			days += 7 * n
		case 'd':
			days += n
		default:
			return time.Time{}, fmt.Errorf("%q: unit %q is not y, w or d", age, rest[i])
		}
		rest = rest[i+1:]
	}
	if years == 0 && days == 0 {
		return time.Time{}, fmt.Errorf("%q is zero: every subject would be purged", age)
	}
	if years > 200 {
		return time.Time{}, fmt.Errorf("%q is out of range", age)
	}
	return now.AddDate(-years, 0, -days), nil
}
