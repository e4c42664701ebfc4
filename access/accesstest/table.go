// Package accesstest reads the expected-outcome tables of authorization-matrix tests: the
// pure matrix of package access and the same matrix over HTTP share one reading.
package accesstest

import "strings"

// Table is an expected-outcome table: rows of patterns, the last column the outcome. The
// first row whose patterns all match a cell gives its outcome; "*" matches anything, and a
// pattern ending in "*" any value with that prefix.
type Table struct {
	rows [][]string
	used []int
}

// Parse reads a table of whitespace-separated columns, one row per line.
func Parse(s string) *Table {
	t := &Table{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		t.rows = append(t.rows, strings.Fields(line))
	}
	t.used = make([]int, len(t.rows))
	return t
}

// Outcome returns the outcome of the first row matching cell, or "" if none does.
func (t *Table) Outcome(cell ...string) string {
	for i, row := range t.rows {
		if len(row) != len(cell)+1 {
			continue
		}
		matched := true
		for k, pattern := range row[:len(cell)] {
			matched = matched && match(pattern, cell[k])
		}
		if matched {
			t.used[i]++
			return row[len(cell)]
		}
	}
	return ""
}

// Unused returns the rows that matched no cell: a row no cell reaches is a mistake in the
// table or in the cells.
func (t *Table) Unused() [][]string {
	var out [][]string
	for i, n := range t.used {
		if n == 0 {
			out = append(out, t.rows[i])
		}
	}
	return out
}

// Rows is the number of rows.
func (t *Table) Rows() int { return len(t.rows) }

func match(pattern, value string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(value, p)
	}
	return pattern == value
}
