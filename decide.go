package huella

import "time"

// The rules of adjudication. The stores apply them inside the transaction
// that reads the pending hit and persists the outcome, so that a rule is
// written once and every store keeps it; the adjudication service chooses
// which to apply (the two-person rule is its setting).

// Decide records on the pending hit h an examiner's decision, and returns
// what a confirmation forwards: a confirmed duplicate's new encounter goes
// to the partners that received the candidate subject, a confirmed
// watchlist hit to the list's owner as its agreements say. It returns nil
// for a rejection. Under the two-person rule the examiner who gave the
// first confirmation cannot give the second.
//
// A confirmed duplicate also merges the probe's subject into the
// candidate's (see MergeTarget).
func (h *Hit) Decide(examiner string, state HitState, reason string, now time.Time) (*Confirmation, error) {
	if err := ValidateDecision(state, reason); err != nil {
		return nil, err
	}
	if h.State != HitPending {
		return nil, Errorf(ECONFLICT, "hit already %s", h.State)
	}
	if state == HitConfirmed && h.FirstExaminer == examiner {
		return nil, Errorf(EFORBIDDEN, "a second examiner must confirm: the first confirmation is yours")
	}
	h.State, h.Examiner, h.Reason, h.DecidedAt = state, examiner, reason, now
	if state != HitConfirmed {
		return nil, nil
	}
	if h.Kind == HitDuplicate {
		return &Confirmation{Kind: TriggerDuplicate, HitID: h.ID, SubjectID: h.CandidateSubjectID,
			EncounterID: h.EncounterID, Reason: reason}, nil
	}
	return &Confirmation{Kind: TriggerHit, HitID: h.ID, Category: string(h.Category),
		SubjectID: h.SubjectID, EncounterID: h.EncounterID, Reason: reason}, nil
}

// ConfirmFirst records on the pending hit h the first of two
// confirmations; the hit stays pending until another examiner decides.
func (h *Hit) ConfirmFirst(examiner, reason string, now time.Time) error {
	if err := ValidateDecision(HitConfirmed, reason); err != nil {
		return err
	}
	if h.State != HitPending {
		return Errorf(ECONFLICT, "hit already %s", h.State)
	}
	if h.FirstExaminer != "" {
		return Errorf(ECONFLICT, "hit already has its first confirmation")
	}
	h.FirstExaminer, h.FirstReason, h.FirstConfirmedAt = examiner, reason, now
	return nil
}

// Withdraw closes the pending hit h without a decision, as when its
// watchlist entry is removed: by whom and why.
func (h *Hit) Withdraw(by, reason string, now time.Time) {
	h.State, h.Examiner, h.Reason, h.DecidedAt = HitWithdrawn, by, reason, now
}

// MergeTarget returns the subject a confirmed duplicate merges the probe's
// subject from into: the candidate subject, or the survivor the candidate
// was itself merged into (candidateMergedInto, empty when none). merge is
// false when both are already one subject.
func MergeTarget(from, candidate, candidateMergedInto string) (into string, merge bool) {
	into = candidate
	if candidateMergedInto != "" {
		into = candidateMergedInto
	}
	return into, from != into
}

// ConvictionTrigger returns the forwarding event of an encounter that
// declares a criminal conviction, enrolled as the given subject and
// encounter IDs, or nil when it declares none: convicted persons' records
// go to the partners whose agreements cover convictions.
func (e *Encounter) ConvictionTrigger(subjectID, encounterID string) *TriggerEvent {
	if e.CriminalHistory.Status != HistoryConviction {
		return nil
	}
	return &TriggerEvent{Kind: TriggerConviction, SubjectID: subjectID, EncounterID: encounterID, Site: e.SiteCode}
}
