package console

// Tuned values of the console, in one place.

// QualityRecaptureBelow is the engine quality (0–100) under which the
// enroll form asks the officer to capture the image again.
const QualityRecaptureBelow = 40

// Search limits. A search by name or document asks the store's index
// (EncounterFilter.Name and .Document) for the matching encounters of the
// user's sites, newest first, and groups them by subject here; both bounds
// keep a common name's search quick, and the page says when it was cut.
const (
	searchMaxEncounters = 1000 // encounters read at most per query (the Store's largest page)
	searchMaxHits       = 100  // subjects shown at most
)

// probeSlots is how many images a search by image takes at once: one image
// rarely carries enough evidence to reach the review threshold alone.
const probeSlots = 4

// Page sizes and how much the pages show.
const (
	dashboardMonths    = 12  // months the dashboard charts
	encountersPerPage  = 50  // encounters listed at once
	auditPerPage       = 100 // audit events listed at once
	hitsPerPage        = 100 // hits in the examiner's queue at once
	deliveriesPerPage  = 100 // deliveries listed at once
	maxCandidatesShown = 5   // candidates an enrollment result or a search lists
)
