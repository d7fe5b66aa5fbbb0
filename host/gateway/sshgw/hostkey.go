package sshgw

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// Host key files in the data folder.
const (
	HostKeyEd25519 = "ssh_host_ed25519_key"
	HostKeyRSA     = "ssh_host_rsa_key"
)

// rsaBits is the size of a generated RSA host key, for clients with no
// Ed25519 (older cryptlib builds).
const rsaBits = 2048

// LoadHostKeys reads the host keys from dir, generating each missing one
// (mode 0600) first: an Ed25519 key and an RSA key. The keys are reused
// on every later start, so callers' clients keep recognising the board.
func LoadHostKeys(dir string) ([]ssh.Signer, error) {
	var signers []ssh.Signer
	for _, k := range []struct {
		name string
		gen  func() (crypto.Signer, error)
	}{
		{HostKeyEd25519, func() (crypto.Signer, error) {
			_, key, err := ed25519.GenerateKey(rand.Reader)
			return key, err
		}},
		{HostKeyRSA, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, rsaBits) }},
	} {
		s, err := loadHostKey(filepath.Join(dir, k.name), k.gen)
		if err != nil {
			return nil, err
		}
		signers = append(signers, s)
	}
	return signers, nil
}

// loadHostKey reads the key at path, or generates one with gen and
// writes it there with mode 0600.
func loadHostKey(path string, gen func() (crypto.Signer, error)) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := gen()
		if err != nil {
			return nil, fmt.Errorf("ssh host key: generate %s: %w", path, err)
		}
		block, err := ssh.MarshalPrivateKey(key, "m2bbs host key")
		if err != nil {
			return nil, fmt.Errorf("ssh host key: encode %s: %w", path, err)
		}
		data = pem.EncodeToMemory(block)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("ssh host key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("ssh host key: %w", err)
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("ssh host key: write %s: %w", path, werr)
		}
	} else if err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("ssh host key: %s: %w", path, err)
	}
	return signer, nil
}

// Fingerprints returns each host key's type and SHA-256 fingerprint, as
// OpenSSH shows them ("ssh-ed25519 SHA256:…"), for the log.
func Fingerprints(signers []ssh.Signer) []string {
	var fps []string
	for _, s := range signers {
		fps = append(fps, s.PublicKey().Type()+" "+ssh.FingerprintSHA256(s.PublicKey()))
	}
	return fps
}
