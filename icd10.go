package recordvault

// icd10Titles are the titles of ICD-10-CM codes common in outpatient mental-health care, as the
// FY2025 tabular list gives them: a subset, so that a released copy names a diagnosis for the
// people who read it (an attorney, a school) where it can; a code not here is shown as it is.
var icd10Titles = map[string]string{
	"F10.10": "Alcohol abuse, uncomplicated",
	"F10.20": "Alcohol dependence, uncomplicated",
	"F11.20": "Opioid dependence, uncomplicated",
	"F12.20": "Cannabis dependence, uncomplicated",
	"F20.9":  "Schizophrenia, unspecified",
	"F31.9":  "Bipolar disorder, unspecified",
	"F32.0":  "Major depressive disorder, single episode, mild",
	"F32.1":  "Major depressive disorder, single episode, moderate",
	"F32.2":  "Major depressive disorder, single episode, severe without psychotic features",
	"F32.9":  "Major depressive disorder, single episode, unspecified",
	"F32.A":  "Depression, unspecified",
	"F33.0":  "Major depressive disorder, recurrent, mild",
	"F33.1":  "Major depressive disorder, recurrent, moderate",
	"F33.2":  "Major depressive disorder, recurrent severe without psychotic features",
	"F33.9":  "Major depressive disorder, recurrent, unspecified",
	"F34.1":  "Dysthymic disorder",
	"F40.10": "Social phobia, unspecified",
	"F41.0":  "Panic disorder [episodic paroxysmal anxiety]",
	"F41.1":  "Generalized anxiety disorder",
	"F41.9":  "Anxiety disorder, unspecified",
	"F42.2":  "Mixed obsessional thoughts and acts",
	"F43.0":  "Acute stress reaction",
	"F43.10": "Post-traumatic stress disorder, unspecified",
	"F43.11": "Post-traumatic stress disorder, acute",
	"F43.12": "Post-traumatic stress disorder, chronic",
	"F43.20": "Adjustment disorder, unspecified",
	"F43.21": "Adjustment disorder with depressed mood",
	"F43.22": "Adjustment disorder with anxiety",
	"F43.23": "Adjustment disorder with mixed anxiety and depressed mood",
	"F43.24": "Adjustment disorder with disturbance of conduct",
	"F43.25": "Adjustment disorder with mixed disturbance of emotions and conduct",
	"F60.3":  "Borderline personality disorder",
	"F84.0":  "Autistic disorder",
	"F90.0":  "Attention-deficit hyperactivity disorder, predominantly inattentive type",
	"F90.1":  "Attention-deficit hyperactivity disorder, predominantly hyperactive type",
	"F90.2":  "Attention-deficit hyperactivity disorder, combined type",
	"F90.9":  "Attention-deficit hyperactivity disorder, unspecified type",
	"F91.3":  "Oppositional defiant disorder",
	"F93.0":  "Separation anxiety disorder of childhood",
	"Z63.0":  "Problems in relationship with spouse or partner",
}

// DiagnosisTitle is the ICD-10-CM title of code, when this table knows it.
func DiagnosisTitle(code string) (string, bool) {
	t, ok := icd10Titles[code]
	return t, ok
}
