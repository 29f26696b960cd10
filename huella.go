// Package huella holds the domain of the Huella ABIS: the records an
// enrollment produces (sites, subjects, encounters, biographics, samples,
// scars, marks and tattoos, templates), the people who use it (users and
// roles), the audit trail, the error codes shared by every layer, and the
// narrow interfaces the adapters implement (Store, BlobStore).
//
// It imports no adapter: sqlite/, postgres/, blob/ and http/ depend on it,
// never the reverse.
package huella
