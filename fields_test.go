package recordvault_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/recordvault/recordvault"
)

func raw(fields map[string]any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range fields {
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out
}

func progressNote() map[string]any {
	return map[string]any{
		"date_of_service": "2026-11-20", "start_time": "10:00", "stop_time": "10:53", "modality": "individual",
		"cpt_code": "90837", "diagnosis_codes": []string{"F41.1", "F33.0"}, "plan": "Continue CBT; review in 2 weeks.",
	}
}

func TestValidateFieldsAcceptsEachCategory(t *testing.T) {
	for c, fields := range map[recordvault.Category]map[string]any{
		recordvault.ProgressNote:      progressNote(),
		recordvault.PsychotherapyNote: {"process_notes": "Transference themes…"},
		recordvault.Evaluation:        {"date_of_service": "2026-10-01", "summary": "WAIS-IV within normal limits."},
		recordvault.SUDRecord:         {"date_of_service": "2026-10-02", "note": "Week 3 of IOP."},
	} {
		got, err := recordvault.ValidateFields(c, raw(fields))
		if err != nil || len(got) != len(fields) {
			t.Fatalf("%s: %v (%d fields)", c, err, len(got))
		}
	}
	got, _ := recordvault.ValidateFields(recordvault.ProgressNote, raw(progressNote()))
	if string(got["diagnosis_codes"]) != `["F41.1","F33.0"]` || string(got["cpt_code"]) != "90837" {
		t.Fatalf("canonical forms: %q %q", got["diagnosis_codes"], got["cpt_code"])
	}
}

const secret = "CANARY-Jane-Doe-SSN"

func TestValidateFieldsRefuses(t *testing.T) {
	with := func(change map[string]any, drop ...string) map[string]any {
		f := progressNote()
		maps.Copy(f, change)
		for _, d := range drop {
			delete(f, d)
		}
		return f
	}
	for _, tc := range []struct {
		name     string
		category recordvault.Category
		fields   map[string]any
		want     string
	}{
		{"unknown field", recordvault.ProgressNote, with(map[string]any{"ssn": secret}), `unknown field "ssn"`},
		{"missing required", recordvault.ProgressNote, with(nil, "cpt_code"), `missing required field "cpt_code"`},
		{"date not a date", recordvault.ProgressNote, with(map[string]any{"date_of_service": secret}), "YYYY-MM-DD"},
		{"impossible date", recordvault.ProgressNote, with(map[string]any{"date_of_service": "2026-02-30"}), "YYYY-MM-DD"},
		{"time not a time", recordvault.ProgressNote, with(map[string]any{"start_time": "9am"}), "HH:MM"},
		{"stop before start", recordvault.ProgressNote, with(map[string]any{"stop_time": "09:00"}), "after start_time"},
		{"bad CPT", recordvault.ProgressNote, with(map[string]any{"cpt_code": secret}), "CPT"},
		{"bad modality", recordvault.ProgressNote, with(map[string]any{"modality": "hypnosis"}), "one of"},
		{"ICD code malformed", recordvault.ProgressNote, with(map[string]any{"diagnosis_codes": []string{secret}}), "ICD-10-CM"},
		{"no diagnosis codes", recordvault.ProgressNote, with(map[string]any{"diagnosis_codes": []string{}}), "ICD-10-CM"},
		{"codes as a string", recordvault.ProgressNote, with(map[string]any{"diagnosis_codes": "F41.1"}), "ICD-10-CM"},
		{"number for text", recordvault.ProgressNote, with(map[string]any{"plan": 42}), "want a string"},
		{"null for text", recordvault.ProgressNote, with(map[string]any{"plan": nil}), "want a string"},
		{"text too long", recordvault.ProgressNote, with(map[string]any{"plan": strings.Repeat("a", recordvault.MaxTextField+1)}), "longer than"},
		{"progress fields in a psychotherapy note", recordvault.PsychotherapyNote, map[string]any{"process_notes": "x", "diagnosis_codes": []string{"F41.1"}}, `unknown field "diagnosis_codes"`},
		{"empty psychotherapy note", recordvault.PsychotherapyNote, map[string]any{}, `missing required field "process_notes"`},
		{"unknown category", "diary", map[string]any{}, "unknown record category"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := recordvault.ValidateFields(tc.category, raw(tc.fields))
			if recordvault.ErrorCode(err) != recordvault.EINVALID || got != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want EINVALID mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("a value reached the error: %v", err)
			}
		})
	}
}

// Every problem is reported at once, so a client fixes a form in one round.
func TestValidateFieldsReportsAllProblems(t *testing.T) {
	_, err := recordvault.ValidateFields(recordvault.ProgressNote, raw(map[string]any{"ssn": "x", "modality": "hypnosis"}))
	for _, want := range []string{`unknown field "ssn"`, "one of", `missing required field "cpt_code"`, `missing required field "date_of_service"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// Every field has a label for people: a copy never shows a key where a heading belongs.
func TestEveryFieldHasALabel(t *testing.T) {
	for category, specs := range recordvault.Schemas {
		for _, spec := range specs {
			if spec.Label == "" || recordvault.FieldLabel(category, spec.Name) != spec.Label {
				t.Errorf("%s.%s has no label", category, spec.Name)
			}
		}
	}
	if got := recordvault.FieldLabel(recordvault.ProgressNote, "no_such_field"); got != "no_such_field" {
		t.Errorf("an unknown field's label: %q", got)
	}
}
