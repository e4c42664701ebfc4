package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

func (e *env) recordsCommand() *cobra.Command {
	return group("records", "Write, sign, amend, attach to and read a client's records",
		e.recordsList(), e.recordsShow(), e.recordsWrite(), e.recordsSign(), e.recordsAddendum(), e.recordsAttach(), e.recordsDownload())
}

func (e *env) recordsList() *cobra.Command {
	var after string
	var limit int
	cmd := &cobra.Command{
		Use:   "list <client>",
		Short: "List a client's records, newest first, a page at a time",
		Example: `  recordvault-cli records list <client> --limit 20
  recordvault-cli records list <client> --after <next_after of the previous page>`,
		Args: args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			params := &sdk.ListRecordsParams{Limit: &limit}
			if after != "" {
				params.After = &after
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.ListRecords(cmd.Context(), a[0], params)
			},
				func(w io.Writer, v map[string]any) error {
					items(v["items"], func(m map[string]any) {
						fmt.Fprintf(w, "%s  %-18s %-7s %s\n", str(m, "id"), str(m, "category"), str(m, "status"), str(m, "created"))
					})
					if next := str(v, "next_after"); next != "" {
						fmt.Fprintf(w, "more: --after %s\n", next)
					}
					return nil
				})
		},
	}
	cmd.Flags().StringVar(&after, "after", "", "the page after this one (printed at the end of a page)")
	cmd.Flags().IntVar(&limit, "limit", 50, "records per page, 1 to 200")
	return cmd
}

func (e *env) recordsShow() *cobra.Command {
	return &cobra.Command{
		Use:   "show <client> <record>",
		Short: "Show a record: its fields, attachments, addenda and amendment requests",
		Example: `  recordvault-cli records show <client> <record>
  recordvault-cli records show <client> <record> --json`,
		Args: args("client", "record"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.GetRecord(cmd.Context(), a[0], a[1])
			}, showRecord)
		},
	}
}

// showRecord prints a record for a person: its description, then each field on a line.
func showRecord(w io.Writer, v map[string]any) error {
	fmt.Fprintf(w, "%s  %s, %s, by %s, %s\n", str(v, "id"), str(v, "category"), str(v, "status"), str(v, "author"), str(v, "created"))
	fields, _ := v["fields"].(map[string]any)
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %s: %s\n", n, str(fields, n))
	}
	for _, list := range []struct{ key, one string }{{"attachments", "attachment"}, {"addenda", "addendum"}, {"amendments", "amendment request"}} {
		items, _ := v[list.key].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			fmt.Fprintf(w, "  %s %s", list.one, str(m, "id"))
			if size := str(m, "size"); size != "" {
				fmt.Fprintf(w, " (%s bytes, %s)", size, str(m, "media_type"))
			}
			if text := str(m, "text"); text != "" {
				fmt.Fprintf(w, ": %s", text)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func (e *env) recordsWrite() *cobra.Command {
	var category, file string
	var sign bool
	cmd := &cobra.Command{
		Use:   "write <client>",
		Short: "Write a record from a JSON file of its fields, or in $EDITOR",
		Long: `write stores a new record about the client, written by you: a draft, or signed (final)
with --sign. Its fields come from --file (a JSON object of field names to values), or,
without --file, from $EDITOR, opened on a template of the category's fields.`,
		Example: `  recordvault-cli records write <client> --category progress_note --file note.json --sign
  recordvault-cli records write <client> --category progress_note          # opens $EDITOR`,
		Args: args("client"),
		RunE: func(cmd *cobra.Command, a []string) error {
			raw, err := e.recordFields(category, file)
			if err != nil {
				return err
			}
			var fields map[string]any
			if err := json.Unmarshal(raw, &fields); err != nil {
				return usagef("the fields are not a JSON object: %v", err)
			}
			body := sdk.NewRecord{Category: sdk.NewRecordCategory(category), Fields: fields, Sign: &sign}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.CreateRecord(cmd.Context(), a[0], body)
			}, printID)
		},
	}
	cmd.Flags().StringVar(&category, "category", "", "progress_note, psychotherapy_note, evaluation or sud_record (required)")
	cmd.Flags().StringVar(&file, "file", "", "a JSON file of the record's fields; - for standard input")
	cmd.Flags().BoolVar(&sign, "sign", false, "store it signed (final): it never changes again, addenda add to it")
	requireFlags(cmd, "category")
	return cmd
}

// templates are what $EDITOR opens on for each category.
var templates = map[string]string{
	"progress_note": `{
  "date_of_service": "YYYY-MM-DD", "start_time": "HH:MM", "stop_time": "HH:MM",
  "modality": "individual", "cpt_code": "90834", "diagnosis_codes": [],
  "plan": ""
}`,
	"psychotherapy_note": `{
  "date_of_service": "YYYY-MM-DD",
  "note": ""
}`,
	"evaluation": `{
  "date_of_service": "YYYY-MM-DD",
  "summary": ""
}`,
	"sud_record": `{
  "date_of_service": "YYYY-MM-DD",
  "note": "",
  "diagnosis_codes": []
}`,
}

// recordFields reads a record's fields: from file, standard input, or $EDITOR.
func (e *env) recordFields(category, file string) ([]byte, error) {
	switch file {
	case "-":
		return io.ReadAll(io.LimitReader(e.stdin, 1<<20))
	case "":
	default:
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--file: %v", err)
		}
		return b, nil
	}
	editor := e.getenv(EnvEditor)
	if editor == "" {
		return nil, usagef("give --file, or set %s", EnvEditor)
	}
	tmpl, ok := templates[category]
	if !ok {
		return nil, usagef("--category: one of progress_note, psychotherapy_note, evaluation, sud_record")
	}
	// The draft lives in a directory only the user can read, and is removed afterwards: it
	// holds the note in the clear.
	dir, err := os.MkdirTemp("", "recordvault-note-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "record.json")
	if err := os.WriteFile(path, []byte(tmpl+"\n"), 0o600); err != nil {
		return nil, err
	}
	words := strings.Fields(editor)
	ed := exec.Command(words[0], append(words[1:], path)...)
	ed.Stdin, ed.Stdout, ed.Stderr = e.stdin, e.stdout, e.stderr
	if err := ed.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvEditor, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(string(b)) == strings.TrimSpace(tmpl) {
		return nil, usagef("the record was left as the template: nothing written")
	}
	return b, nil
}

func (e *env) recordsSign() *cobra.Command {
	return &cobra.Command{
		Use:     "sign <client> <record>",
		Short:   "Sign a draft you wrote: it never changes again",
		Example: `  recordvault-cli records sign <client> <record>`,
		Args:    args("client", "record"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.SignRecord(cmd.Context(), a[0], a[1])
			},
				func(w io.Writer, _ map[string]any) error {
					_, err := fmt.Fprintf(w, "%s signed\n", a[1])
					return err
				})
		},
	}
}

func (e *env) recordsAddendum() *cobra.Command {
	var text string
	var concerns []string
	cmd := &cobra.Command{
		Use:     "addendum <client> <record>",
		Short:   "Add an addendum to a signed record",
		Example: `  recordvault-cli records addendum <client> <record> --text "Late entry: called the client on 11/21." --concerns plan`,
		Args:    args("client", "record"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.AddAddendumJSONRequestBody{Text: text}
			if len(concerns) > 0 {
				body.Concerns = &concerns
			}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.AddAddendum(cmd.Context(), a[0], a[1], body)
			}, printID)
		},
	}
	cmd.Flags().StringVar(&text, "text", "", "the addendum (required)")
	cmd.Flags().StringSliceVar(&concerns, "concerns", nil, "the record's fields it concerns; none: the whole record")
	requireFlags(cmd, "text")
	return cmd
}

func (e *env) recordsAttach() *cobra.Command {
	var mediaType string
	cmd := &cobra.Command{
		Use:     "attach <client> <record> <file>",
		Short:   "Attach a document (a PDF) to a draft, streamed and encrypted on the way",
		Example: `  recordvault-cli records attach <client> <record> scanned-evaluation.pdf`,
		Args:    args("client", "record", "file"),
		RunE: func(cmd *cobra.Command, a []string) error {
			f, err := os.Open(a[2])
			if err != nil {
				return usagef("%v", err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			if mediaType == "" {
				mediaType = mime.TypeByExtension(filepath.Ext(a[2]))
			}
			if mediaType == "" {
				return usagef("--media-type: the file's type is not known from its name")
			}
			bar, finish := e.progress(st.Size(), "uploading")
			defer finish()
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.AddAttachmentWithBody(cmd.Context(), a[0], a[1], mediaType, io.TeeReader(f, bar), sdk.ContentLength(st.Size()))
			}, printID)
		},
	}
	cmd.Flags().StringVar(&mediaType, "media-type", "", "the document's media type; from the file's name when absent")
	return cmd
}

func (e *env) recordsDownload() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "download <client> <record> <attachment>",
		Short:   "Download an attachment, decrypted, to a file",
		Example: `  recordvault-cli records download <client> <record> <attachment> -o evaluation.pdf`,
		Args:    args("client", "record", "attachment"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.service()
			if err != nil {
				return err
			}
			resp, err := c.GetAttachment(cmd.Context(), a[0], a[1], a[2], nil)
			if err != nil {
				return err
			}
			return e.save(resp, out, "downloading")
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (created, never overwritten); standard output when absent")
	return cmd
}
