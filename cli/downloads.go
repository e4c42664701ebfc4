package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

func (e *env) downloadsCommand() *cobra.Command {
	return group("downloads", "Redeem a download link: the released copy, once; confirm a copy by its verification code",
		e.downloadsCode(), e.downloadsGet(), e.downloadsVerify())
}

func (e *env) downloadsVerify() *cobra.Command {
	return &cobra.Command{
		Use:   "verify <code>",
		Short: "Confirm a released copy by the verification code on its certification: which release, to whom, when, what content",
		Example: `  recordvault-cli downloads verify 7K2M-9QXD-40FA
  recordvault-cli downloads verify "7k2m 9qxd 40fa" --json`,
		Args: args("code"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.VerifyCertification(cmd.Context(), a[0])
			},
				func(w io.Writer, v map[string]any) error {
					recipient, _ := v["recipient"].(map[string]any)
					state := "The record still holds exactly this content."
					if v["unchanged"] != true {
						state = "The record no longer holds this content: compare the copy with the clinic's history of the document."
					}
					_, err := fmt.Fprintf(w, "Copy %s: release %s of document %s (client %s), delivered %s to %s %s under %s.\nContent hash %s. %s\n",
						str(v, "code"), str(v, "release"), str(v, "document"), str(v, "client"), str(v, "delivered"),
						str(recipient, "kind"), str(recipient, "name"), str(v, "basis"), str(v, "content_hash"), state)
					return err
				})
		},
	}
}

func (e *env) downloadsCode() *cobra.Command {
	return &cobra.Command{
		Use:     "code <token>",
		Short:   "Have a one-time code sent to the registered address of the link's recipient (recipients without a login)",
		Example: `  recordvault-cli downloads code <token>   # then: downloads get <token> --code <the code>`,
		Args:    args("token"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.RequestCodeJSONRequestBody{Token: a[0]}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) { return c.RequestCode(cmd.Context(), body) },
				func(w io.Writer, _ map[string]any) error {
					_, err := fmt.Fprintln(w, "A code was sent to the recipient's registered address.")
					return err
				})
		},
	}
}

func (e *env) downloadsGet() *cobra.Command {
	var code, format, out string
	cmd := &cobra.Command{
		Use:   "get <token>",
		Short: "Download the released copy a link names, once (your own login, or --code)",
		Example: `  recordvault-cli downloads get <token> --format pdf -o my-note.pdf          # a client, logged in
  recordvault-cli downloads get <token> --code 12345678 --format zip -o copy.zip  # a recipient with a code`,
		Args: args("token"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.DownloadJSONRequestBody{Token: a[0]}
			if code != "" {
				body.Code = &code
			}
			if format != "" {
				f := sdk.DownloadJSONBodyFormat(format)
				body.Format = &f
			}
			c, err := e.service()
			if err != nil {
				return err
			}
			if code != "" { // a recipient proves themselves by the code alone
				if c, err = sdk.New(e.url(), sdk.WithHTTP(transferClient())); err != nil {
					return err
				}
			}
			resp, err := c.Download(cmd.Context(), nil, body)
			if err != nil {
				return err
			}
			return e.save(resp, out, "downloading")
		},
	}
	cmd.Flags().StringVar(&code, "code", "", "the one-time code sent to you (recipients without a login)")
	cmd.Flags().StringVar(&format, "format", "", "json, pdf (the copy with its cover sheet), document (the attached PDF) or zip (the copy and its documents)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (created, never overwritten); standard output when absent")
	return cmd
}

// save writes resp's body to path, created for the user alone and never over an existing
// file, or to standard output for "" and "-", with a progress bar labelled label on a
// terminal. A file cut off before its end is removed: run the command again.
func (e *env) save(resp *http.Response, path, label string) error {
	defer resp.Body.Close()
	to, f := e.stdout, (*os.File)(nil)
	if path != "" && path != "-" {
		var err error
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return usagef("-o: %v", err)
		}
		to = f
	}
	bar, finish := e.progress(resp.ContentLength, label)
	n, err := io.Copy(io.MultiWriter(to, bar), resp.Body)
	finish()
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = errors.New("cut off before its end; run it again")
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	return nil
}
