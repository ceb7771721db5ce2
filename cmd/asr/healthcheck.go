package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:      "healthcheck",
		Usage:     "check that a server answers (exit status 0) or not (1), for container healthchecks",
		ArgsUsage: "URL (e.g. http://localhost:8000/healthz)",
		Description: "GETs URL and exits with status 0 when the server answers 200 within --timeout,\n" +
			"1 otherwise, saying why on standard error. For Docker healthchecks in an image\n" +
			"without curl:\n\n" +
			"  healthcheck: {test: [\"CMD\", \"asr\", \"healthcheck\", \"http://localhost:8000/healthz\"]}",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "time to wait for the answer"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("healthcheck takes one URL, got %d arguments", c.NArg())
			}
			return healthcheck(c.Context, c.Args().First(), c.Duration("timeout"), c.App.Writer)
		},
	})
}

func healthcheck(ctx context.Context, url string, timeout time.Duration, w io.Writer) error {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("healthcheck: %q is not an http:// or https:// URL", url)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(w, strings.TrimSpace(string(body)))
	return nil
}
