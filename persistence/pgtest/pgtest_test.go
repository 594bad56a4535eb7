package pgtest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestStartAndStop(t *testing.T) {
	if os.Getenv(SkipEnv) == "1" {
		t.Skip("PostgreSQL tests skipped")
	}
	ctx := context.Background()
	srv, err := Start(ctx, t.Logf)
	if errors.Is(err, ErrNoPostgres) {
		t.Fatalf("%v", err)
	}
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer srv.Stop()

	url, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatalf("NewDatabase: %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to the new database: %v", err)
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("SELECT 1 = %d, %v", one, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (x int)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	checkHaltAndResume(t, srv, url)

	srv.Stop()
	if _, err := os.Stat(srv.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory after Stop: %v, want it removed", err)
	}
	if _, err := pgx.Connect(ctx, url); err == nil {
		t.Error("the server still answers after Stop")
	}
}

func TestForTestGivesSeparateDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := ForTest(t), ForTest(t)
	if a == b {
		t.Fatalf("ForTest gave %s twice", a)
	}
	connA, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer connA.Close(ctx)
	if _, err := connA.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatalf("CREATE TABLE: %v", err)
	}
	connB, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer connB.Close(ctx)
	var n int
	err = connB.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("table of database a seen in b: count %d, %v", n, err)
	}
}

// checkHaltAndResume halts the server, checks that it is down, and resumes
// it at the same address with its data.
func checkHaltAndResume(t *testing.T, srv *Server, url string) {
	ctx := context.Background()
	srv.Halt()
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.Close(ctx)
		t.Fatal("the server answers while halted")
	}
	if err := srv.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting after Resume: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT x FROM kept"); err != nil {
		t.Fatalf("the data did not survive the restart: %v", err)
	}
}
