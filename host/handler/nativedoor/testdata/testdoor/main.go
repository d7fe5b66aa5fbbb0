// Command testdoor is the native door the tests run: it reads the drop
// files in its folder, greets the caller by name with their time left,
// and echoes keys until Q. Other modes misbehave on purpose.
//
//	testdoor [echo|socket|hang|flood|mem|env]
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/m2bbs/m2bbs/host/handler/nativedoor/dropfile"
)

func main() {
	mode := "echo"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "echo":
		echo(os.Stdin, os.Stdout)
	case "socket":
		f := os.NewFile(3, "socket")
		echo(f, f)
	case "hang":
		signal.Ignore(syscall.SIGHUP, syscall.SIGTERM)
		child := exec.Command(os.Args[0], "sleep")
		child.Start() // same process group
		fmt.Printf("hanging, child %d\n", child.Process.Pid)
		for {
			time.Sleep(time.Hour)
		}
	case "sleep":
		signal.Ignore(syscall.SIGHUP)
		for {
			time.Sleep(time.Hour)
		}
	case "flood":
		line := []byte(strings.Repeat("flood ", 13) + "\n")
		for {
			os.Stdout.Write(line)
		}
	case "mem":
		b := make([]byte, 0)
		for i := 0; i < 64; i++ {
			b = append(b, make([]byte, 64<<20)...)
		}
		fmt.Println("allocated", len(b))
	case "env":
		fmt.Println(strings.Join(os.Environ(), "\n"))
	case "size":
		// Its terminal's size, at the start and on each SIGWINCH, until
		// a key.
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		go func() {
			for {
				w, h, _ := term.GetSize(0)
				fmt.Printf("size %dx%d\n", w, h)
				<-winch
			}
		}()
		os.Stdin.Read(make([]byte, 1))
	}
}

// echo greets the caller from the drop files and echoes keys until q.
func echo(in io.Reader, out io.Writer) {
	for _, k := range []dropfile.Kind{dropfile.Door32, dropfile.DoorSys} {
		b, err := os.ReadFile(k.FileName())
		if err != nil {
			continue
		}
		info, err := dropfile.Parse(k, b)
		if err != nil {
			fmt.Fprintf(out, "%s: %v\r\n", k.FileName(), err)
			os.Exit(2)
		}
		fmt.Fprintf(out, "%s: Hello %s, %d minutes left on node %d.\r\n", k.FileName(), info.Alias, int(info.TimeLeft/time.Minute), info.Node)
	}
	fmt.Fprint(out, "Press keys, Q quits.\r\n")
	buf := make([]byte, 64)
	for {
		n, err := in.Read(buf)
		for _, c := range buf[:n] {
			if c == 'q' || c == 'Q' {
				fmt.Fprint(out, "Bye!\r\n")
				return
			}
			fmt.Fprintf(out, "key %q\r\n", c)
		}
		if err != nil {
			return
		}
	}
}
