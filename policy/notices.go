package policy

// The notices a released copy carries (Notices).
const (
	// Part2NoticeText is the redisclosure notice of 42 CFR 2.32 (as amended in 2024).
	Part2NoticeText = "This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2). " +
		"These rules prohibit you from using or disclosing this record, or testimony that describes the information contained " +
		"in this record, in any civil, criminal, administrative, or legislative proceedings by any Federal, State, or local " +
		"authority, against the patient, unless authorized by the consent of the patient, except as provided at 42 CFR 2.12(c)(5) " +
		"or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In addition, the Federal rules prohibit you from " +
		"making any other use or disclosure of this record unless at least one of the following applies: (A) Further use or " +
		"disclosure is expressly permitted by the written consent of the individual whose information is being disclosed in " +
		"this record or as otherwise permitted by 42 CFR part 2. (B) You are a covered entity or business associate and have " +
		"received the record for treatment, payment, or health care operations, or (C) You have received the record from a " +
		"covered entity or business associate as permitted by 45 CFR part 164, subparts A and E. A general authorization for " +
		"the release of medical or other information is NOT sufficient to meet the required elements of written consent to " +
		"further use or redisclose the record (see 42 CFR 2.31)."
	// RedisclosureCaution goes with every other mental-health release.
	RedisclosureCaution = "This copy contains confidential mental-health information disclosed to the named recipient for the " +
		"stated purpose only. Further disclosure may be restricted by federal and state law (45 CFR 164.502, 164.508) and requires " +
		"a legal basis of its own."
)

// Notices are the notices a copy released under d carries: 42 CFR 2.32's for a Part 2
// record, the redisclosure caution for every other.
func Notices(d Decision) []string {
	if d.Part2Notice {
		return []string{Part2NoticeText}
	}
	return []string{RedisclosureCaution}
}
