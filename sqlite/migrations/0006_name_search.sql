-- Search by name and document number: each name's words, folded (lower
-- case, accents removed: huella.NameWords), and each document number's key
-- (huella.DocumentKey). Written with the encounter; the rows of encounters
-- stored before this migration are filled in by Go (backfillNameSearch).
CREATE TABLE encounter_name_words (
	encounter_id TEXT NOT NULL REFERENCES encounters (id),
	name_no      INTEGER NOT NULL, -- index in biographics.names
	word         TEXT NOT NULL
);

CREATE INDEX encounter_name_words_word ON encounter_name_words (word);
CREATE INDEX encounter_name_words_encounter ON encounter_name_words (encounter_id, name_no);

CREATE TABLE encounter_documents (
	encounter_id TEXT NOT NULL REFERENCES encounters (id),
	number       TEXT NOT NULL
);

CREATE INDEX encounter_documents_number ON encounter_documents (number);
CREATE INDEX encounter_documents_encounter ON encounter_documents (encounter_id);
