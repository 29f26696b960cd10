-- The hits about a subject, for its page: as the probe's subject or as the
-- duplicate candidate (HitFilter.SubjectID).
CREATE INDEX hits_subject ON hits (subject_id);
CREATE INDEX hits_candidate_subject ON hits (candidate_subject_id) WHERE candidate_subject_id <> '';
