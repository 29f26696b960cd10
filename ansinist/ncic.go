package ansinist

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NCIC State and Country Data Codes: the two-letter codes EBTS puts in
// 2.020 (POB, place of birth: a US or Mexican state, a Canadian province,
// a territory or a country) and 2.021 (CTZ, country of citizenship), as
// ISO 3166-1 alpha-3 countries map to them.
//
// Source: the NCIC code table the FBI-sponsored OpenEBTS ships with its
// EBTS verification samples (github.com/amdonov/OpenEBTS,
// Win32/trunk/IWNISTSamples/IWNISTSample1/Samples/T2_POB.txt for POB and
// IWNISTSample3/Samples/T2_CTZ.txt for CTZ; EBTS 9.1's verification file
// OpenEBTSSamples/Samples/EBTS9.1_ENUS.txt points 2.020 and 2.021 at them:
// "the NCIC State and Country Data Code Table found in Appendix O").
// Only the codes that table gives for entry are mapped: codes it marks
// "Reference only" (Latvia LT, Lithuania LH, China CN, Korea KR, ...),
// and territories it splits or lacks (the United Kingdom, which it codes
// by England, Scotland, Wales and Northern Ireland; the Palestinian
// territories, coded Gaza and West Bank; the states formed after 1990,
// which that edition of the table still codes as the USSR, Yugoslavia or
// Czechoslovakia; Puerto Rico, Guam and the other US territories it does
// not list) are not guessed: NCICPlaceOfBirth gives NCICNotInTable for
// them and NCICCitizenship none.
const (
	// NCICUnknown is the POB code of an unknown place of birth ("XX").
	NCICUnknown = "XX"
	// NCICNotInTable is the POB code of a known place of birth the code
	// table has no code for ("YY", "POB not contained in code table").
	NCICNotInTable = "YY"
)

// ncicCountries maps ISO 3166-1 alpha-3 codes to the table's country
// codes.
var ncicCountries = map[string]string{
	"AFG": "AF", "ALB": "AA", "DZA": "AN", "AND": "AD", "AGO": "AO", "AIA": "AE", "ATG": "AI", "ARG": "AT",
	"ABW": "AJ", "AUS": "AS", "AUT": "AU", "BHS": "BD", "BHR": "BE", "BGD": "BL", "BRB": "BB", "BEL": "BG",
	"BLZ": "BH", "BEN": "DH", "BMU": "BM", "BTN": "BN", "BOL": "BV", "BES": "NX", "BWA": "BT", "BVT": "BQ",
	"BRA": "BZ", "IOT": "BO", "VGB": "VB", "BRN": "BX", "BGR": "BU", "BFA": "UV", "MMR": "BR", "BDI": "BI",
	"KHM": "CJ", "CMR": "CM", "CAN": "CD", "CPV": "CV", "CYM": "CP", "CAF": "CW", "TCD": "CF", "CHL": "CQ",
	"CHN": "RC", "TWN": "TW", "CXR": "HR", "CCK": "DD", "COL": "CB", "COM": "DG", "COG": "RB", "COD": "ZR",
	"COK": "DI", "CRI": "CR", "CUB": "CC", "CUW": "NX", "CYP": "CS", "DNK": "DK", "DJI": "DN", "DMA": "DM",
	"DOM": "DR", "ECU": "EU", "EGY": "EY", "SLV": "EL", "GNQ": "EK", "EST": "ES", "ETH": "EO", "FLK": "FA",
	"FRO": "FO", "FSM": "FS", "FJI": "FJ", "FIN": "FD", "FRA": "FN", "GUF": "FG", "PYF": "FP", "GAB": "GB",
	"GMB": "GK", "DEU": "GE", "GHA": "GG", "GIB": "RG", "GRC": "GC", "GRL": "GN", "GRD": "GJ", "GLP": "GP",
	"GTM": "GT", "GGY": "GF", "GIN": "GI", "GNB": "PG", "GUY": "GY", "HTI": "HT", "HMD": "HE", "HND": "HD",
	"HKG": "HK", "HUN": "HU", "ISL": "IC", "IND": "II", "IDN": "IO", "IRN": "IR", "IRQ": "IQ", "IRL": "IE",
	"IMN": "IB", "ISR": "IS", "ITA": "IT", "CIV": "IY", "JAM": "JM", "JPN": "JA", "JEY": "JE", "JOR": "JO",
	"KEN": "KE", "KIR": "KB", "PRK": "KN", "KOR": "KO", "KWT": "KU", "LAO": "LS", "LBN": "LN", "LSO": "LE",
	"LBR": "LB", "LBY": "LY", "LIE": "LI", "LUX": "LX", "MAC": "OC", "MDG": "MP", "MWI": "MF", "MYS": "MZ",
	"MDV": "MV", "MLI": "ML", "MLT": "MY", "MTQ": "ZB", "MRT": "MU", "MUS": "UM", "MEX": "MM", "MCO": "MJ",
	"MNG": "MG", "MSR": "RR", "MAR": "MQ", "MOZ": "ZO", "NAM": "SJ", "NRU": "NR", "NPL": "NP", "NLD": "NE",
	"NCL": "NQ", "NZL": "NZ", "NIC": "NU", "NER": "NN", "NGA": "NG", "NIU": "IU", "NFK": "OF", "NOR": "NW",
	"OMN": "OM", "PAK": "PK", "PLW": "PD", "PAN": "PM", "PNG": "NO", "PRY": "PV", "PER": "PU", "PHL": "PI",
	"PCN": "PC", "POL": "PO", "PRT": "PT", "QAT": "QA", "REU": "RE", "ROU": "RU", "RUS": "SX", "RWA": "RW",
	"KNA": "TS", "SHN": "HS", "LCA": "LU", "SPM": "PS", "VCT": "VV", "SMR": "SH", "STP": "TP", "SAU": "SB",
	"SEN": "SG", "SYC": "SE", "SLE": "SA", "SGP": "SR", "SLB": "BS", "SOM": "SM", "ZAF": "SF", "ESP": "SP",
	"ESH": "RS", "LKA": "CY", "SDN": "SU", "SUR": "ZC", "SWZ": "SW", "SWE": "SQ", "CHE": "SZ", "SYR": "SY",
	"TZA": "TZ", "THA": "TH", "TGO": "TO", "TKL": "TK", "TON": "TG", "TTO": "TT", "TUN": "TU", "TUR": "TY",
	"TCA": "TR", "TUV": "TV", "UGA": "UG", "ARE": "TC", "USA": "US", "URY": "UY", "VAT": "VY", "VEN": "VZ",
	"VNM": "RV", "VUT": "HN", "WLF": "WF", "WSM": "WS", "YEM": "RY", "ZMB": "ZM", "ZWE": "RH",
}

// ncicSubdivisions are the table's codes for the states of the United
// States and Mexico, the provinces and territories of Canada and the
// countries of the United Kingdom, by country and name (folded: upper
// case, no accents).
var ncicSubdivisions = map[string]map[string]string{
	"USA": {"ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA", "COLORADO": "CO",
		"CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC", "FLORIDA": "FL", "GEORGIA": "GA",
		"HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS",
		"KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA",
		"MICHIGAN": "MI", "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT",
		"NEBRASKA": "NB", "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM",
		"NEW YORK": "NY", "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK",
		"OREGON": "OR", "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
		"TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA", "WASHINGTON": "WA",
		"WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY"},
	"CAN": {"ALBERTA": "AB", "BRITISH COLUMBIA": "BC", "MANITOBA": "MB", "NEW BRUNSWICK": "NK", "NEWFOUNDLAND": "NF",
		"NEWFOUNDLAND AND LABRADOR": "NF", "LABRADOR": "NF", "NORTHWEST TERRITORIES": "NT", "NOVA SCOTIA": "NS",
		"ONTARIO": "ON", "PRINCE EDWARD ISLAND": "PE", "QUEBEC": "PQ", "SASKATCHEWAN": "SN", "YUKON": "YT"},
	"MEX": {"AGUASCALIENTES": "AG", "BAJA CALIFORNIA": "BA", "BAJA CALIFORNIA SUR": "BJ", "CAMPECHE": "CE",
		"CHIAPAS": "CI", "CHIHUAHUA": "CH", "COAHUILA": "CU", "COLIMA": "CL", "DISTRITO FEDERAL": "DF",
		"CIUDAD DE MEXICO": "DF", "DURANGO": "DO", "GUANAJUATO": "GU", "GUERRERO": "GR", "HIDALGO": "HL",
		"JALISCO": "JL", "ESTADO DE MEXICO": "MX", "MICHOACAN": "MC", "MORELOS": "MR", "NAYARIT": "NA",
		"NUEVO LEON": "NL", "OAXACA": "OA", "PUEBLA": "PB", "QUERETARO": "QU", "QUINTANA ROO": "QR",
		"SAN LUIS POTOSI": "SL", "SINALOA": "SI", "SONORA": "SO", "TABASCO": "TB", "TAMAULIPAS": "TA",
		"TLAXCALA": "TL", "VERACRUZ": "VC", "YUCATAN": "YU", "ZACATECAS": "ZA"},
	"GBR": {"ENGLAND": "EN", "SCOTLAND": "SS", "WALES": "WL", "NORTHERN IRELAND": "NI"},
}

// ncicReverse maps every code above back to its ISO 3166-1 alpha-3
// country, and ncicNames a subdivision's code to its name.
var ncicReverse, ncicNames = func() (map[string]string, map[string]string) {
	countries, names := map[string]string{}, map[string]string{}
	for iso, code := range ncicCountries {
		countries[code] = iso
	}
	// Two ISO countries share a code: Bonaire and Curaçao were the
	// Netherlands Antilles (NX), which reads back as Curaçao's.
	countries["NX"] = "CUW"
	for iso, subs := range ncicSubdivisions {
		for name, code := range subs {
			countries[code] = iso
			// A code's name is its longest (the current "NEWFOUNDLAND AND
			// LABRADOR"), the first in order of equal lengths.
			if old, ok := names[code]; !ok || len(name) > len(old) || len(name) == len(old) && name < old {
				names[code] = name
			}
		}
	}
	return countries, names
}()

// NCICPlaceOfBirth returns the POB code (EBTS 2.020) of a place of birth:
// the state, province or UK country named by place when country is the
// United States, Mexico, Canada or the United Kingdom and place is its
// name (case and accents aside), else the country's code; NCICUnknown
// when neither a country (XXA, XXB, XXC and XXX are none) nor a place is
// known, and NCICNotInTable when the table has no code for what is known
// (a country it lacks, or a place without its country).
func NCICPlaceOfBirth(country, place string) string {
	country = strings.ToUpper(strings.TrimSpace(country))
	if code := ncicSubdivisions[country][foldName(place)]; code != "" {
		return code
	}
	if code := ncicCountries[country]; code != "" {
		return code
	}
	if (country == "" || strings.HasPrefix(country, "XX")) && strings.TrimSpace(place) == "" {
		return NCICUnknown
	}
	return NCICNotInTable
}

// NCICCitizenship returns the CTZ code (EBTS 2.021) of an ISO 3166-1
// alpha-3 country, false when the table has none.
func NCICCitizenship(country string) (string, bool) {
	code, ok := ncicCountries[strings.ToUpper(strings.TrimSpace(country))]
	return code, ok
}

// NCICCountry reads a POB or CTZ code: the ISO 3166-1 alpha-3 country it
// codes and, for a state, province or UK country, its name ("TEXAS");
// false for XX, YY and codes not in the table.
func NCICCountry(code string) (country, subdivision string, ok bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	country, ok = ncicReverse[code]
	return country, ncicNames[code], ok
}

// foldName is a place name in upper case without accents or repeated
// spaces, as ncicSubdivisions keys it.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
