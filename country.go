package huella

import "strings"

// iso3166Alpha3 lists the ISO 3166-1 alpha-3 country codes, plus XXA
// (stateless), XXB (refugee), XXC (other refugee) and XXX (unspecified
// nationality) as travel documents (ICAO 9303) use them.
const iso3166Alpha3 = `
ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN
BES BFA BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN
CCK CHE CHL CHN CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU
DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR
GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV
HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM
KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA
MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM
NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL
PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE
SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK
TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB
VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE XXA XXB XXC XXX`

var countries = func() map[string]bool {
	m := make(map[string]bool)
	for _, c := range strings.Fields(iso3166Alpha3) {
		m[c] = true
	}
	return m
}()

// IsCountryCode reports whether s is an ISO 3166-1 alpha-3 code.
func IsCountryCode(s string) bool { return countries[s] }

// CountryCodes returns every code IsCountryCode accepts, in the order of
// the list (stores map their nationality tokens back to codes with it).
func CountryCodes() []string { return strings.Fields(iso3166Alpha3) }
