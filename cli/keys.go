package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/recordvault/recordvault/sdk"
)

func (e *env) keysCommand() *cobra.Command {
	return group("keys", "Rotate a record category's key, rewrap its records, retire old versions (clinic admins)",
		e.keysRotate(), e.keysRewrap(), e.keysRetire())
}

// rewrapPage is how many documents each rewrap request visits.
const rewrapPage = 500

func (e *env) keysRotate() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate <category>",
		Short: "Rotate a category's key, then rewrap every record of it under the new version",
		Example: `  recordvault-cli keys rotate progress_note
  recordvault-cli keys retire progress_note --min-version 2   # once the rewrap is done`,
		Args: args("category"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.service()
			if err != nil {
				return err
			}
			rotated, err := c.RotateKeyWithResponse(cmd.Context(), sdk.RotateKeyParamsCategory(a[0]))
			if err != nil {
				return err
			}
			version := 0
			if rotated.JSON200 != nil && rotated.JSON200.Version != nil {
				version = *rotated.JSON200.Version
			}
			fmt.Fprintf(e.stdout, "%s key: version %d wraps new data keys\n", a[0], version)
			if err := e.rewrap(cmd.Context(), c, a[0], ""); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "retire the older versions with: recordvault-cli keys retire %s --min-version %d\n", a[0], version)
			return err
		},
	}
}

func (e *env) keysRewrap() *cobra.Command {
	var after string
	cmd := &cobra.Command{
		Use:   "rewrap <category>",
		Short: "Rewrap every record of a category under its key's newest version; --after resumes a rewrap cut off",
		Example: `  recordvault-cli keys rewrap evaluation
  recordvault-cli keys rewrap evaluation --after p/<client>/<record>   # the cursor it printed when cut off`,
		Args: args("category"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.service()
			if err != nil {
				return err
			}
			return e.rewrap(cmd.Context(), c, a[0], after)
		},
	}
	cmd.Flags().StringVar(&after, "after", "", "the cursor to resume from")
	return cmd
}

// rewrap rewraps category's records page by page from after to the end, counting them on a
// terminal; cut off, it says the cursor to resume from.
func (e *env) rewrap(ctx context.Context, c *sdk.ClientWithResponses, category, after string) error {
	counter := io.Discard
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("rewrapping "+category),
			progressbar.OptionShowCount(), progressbar.OptionSpinnerType(14))
		defer bar.Finish()
		counter = bar
	}
	total := 0
	for {
		page, err := c.RewrapKeysWithResponse(ctx, sdk.RewrapKeysParamsCategory(category), sdk.RewrapKeysJSONRequestBody{After: &after, Limit: rewrapPage})
		if err != nil {
			if after != "" {
				fmt.Fprintf(e.stderr, "cut off after %d data keys: resume with recordvault-cli keys rewrap %s --after %s\n", total, category, after)
			}
			return err
		}
		v := page.JSON200
		if v == nil || v.Rewrapped == nil || v.Done == nil {
			return fmt.Errorf("the answer: no page")
		}
		total += *v.Rewrapped
		_, _ = counter.Write(make([]byte, *v.Rewrapped)) // the count, one per record rewrapped
		if *v.Done {
			_, err := fmt.Fprintf(e.stdout, "%s: %d data keys rewrapped\n", category, total)
			return err
		}
		after = *v.Next
	}
}

func (e *env) keysRetire() *cobra.Command {
	var minVersion int
	cmd := &cobra.Command{
		Use:   "retire <category>",
		Short: "Retire a category key's versions below --min-version: only after a complete rewrap",
		Long: `retire makes Vault refuse every data key of the category wrapped by an older version. A
record a rewrap missed can no longer be read afterwards, and says so: rewrap first.`,
		Example: `  recordvault-cli keys retire progress_note --min-version 2`,
		Args:    args("category"),
		RunE: func(cmd *cobra.Command, a []string) error {
			body := sdk.RetireKeyVersionsJSONRequestBody{MinVersion: minVersion}
			return e.do(func(c *sdk.ClientWithResponses) (*http.Response, error) {
				return c.RetireKeyVersions(cmd.Context(), sdk.RetireKeyVersionsParamsCategory(a[0]), body)
			}, func(w io.Writer, _ map[string]any) error {
				_, err := fmt.Fprintf(w, "%s key: versions below %d retired\n", a[0], minVersion)
				return err
			})
		},
	}
	cmd.Flags().IntVar(&minVersion, "min-version", 0, "the oldest version kept (required)")
	requireFlags(cmd, "min-version")
	return cmd
}
