package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/facecheck/facecheck/server/store"
)

// runAdmin is "facecheck-server admin reset-password [--data D] [--db URL]
// [--user NAME]": the new password is read from the first line of stdin,
// so it shows neither in ps nor in the shell history, and every session of
// the admin ends. It is for an admin who lost the password; a logged-in
// admin changes theirs on the dashboard.
func runAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	usage := "usage: facecheck-server admin reset-password [--data DIR] [--db URL] [--key-file F] [--user NAME] < new-password"
	if len(args) == 0 || args[0] != "reset-password" {
		fmt.Fprintln(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	m := NewMain()
	fs := flag.NewFlagSet("facecheck-server admin reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&m.DataDir, "data", m.DataDir, "data directory (SQLite database, server key)")
	fs.StringVar(&m.DSN, "db", "", "PostgreSQL URL (postgres://...); default SQLite in --data")
	fs.StringVar(&m.KeyFile, "key-file", os.Getenv("FACECHECK_SERVER_KEY_FILE"), "server key file (default server.key in --data)")
	user := fs.String("user", "admin", "the admin whose password is reset")
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(stderr, "read the new password from stdin:", err)
		return 1
	}
	password := strings.TrimRight(line, "\r\n")
	if len(password) < store.MinPasswordLength {
		fmt.Fprintf(stderr, "the new password (first line of stdin) must be at least %d characters\n", store.MinPasswordLength)
		return 1
	}
	db, err := m.openStore(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	if err := db.SetAdminPassword(ctx, *user, password, ""); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(stderr, "there is no admin %q\n", *user)
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	if err := db.AddAudit(ctx, store.AuditEntry{Actor: "cli", Action: "admin.password_reset", Target: *user}); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "password of admin %q reset; every session of theirs has ended\n", *user)
	return 0
}
