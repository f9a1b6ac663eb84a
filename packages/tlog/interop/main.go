// Command interop answers requests about Go's own implementation of signed notes and
// transparency logs (golang.org/x/mod/sumdb/note and sumdb/tlog), so that the tests of
// @auditlog/tlog can check our formats against code we did not write.
//
// Protocol: one JSON request per line on stdin, one JSON response per line on stdout. A
// response with "error" set means Go refused the input (which a test may expect).
//
// Build (offline, with Debian's golang-go and golang-golang-x-mod-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$(mktemp -d) go build -o interop .
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	Op      string   `json:"op"`
	Name    string   `json:"name"`
	Text    string   `json:"text"`
	Note    string   `json:"note"`
	Key     string   `json:"key"`
	Keys    []string `json:"keys"`
	Seed    string   `json:"seed"`
	Count   int64    `json:"count"`
	Size    int64    `json:"size"`
	Index   int64    `json:"index"`
	Old     int64    `json:"old"`
	Indexes []int64  `json:"indexes"`
	Olds    []int64  `json:"olds"`
	Proof   []string `json:"proof"`
	Root    string   `json:"root"`
	OldRoot string   `json:"oldRoot"`
	Leaf    string   `json:"leaf"`
	Dir     string   `json:"dir"`
	Level   int      `json:"level"`
	Width   int      `json:"width"`
}

type signature struct {
	Name  string `json:"name"`
	KeyID string `json:"keyId"`
}

type response struct {
	Error       string      `json:"error,omitempty"`
	SignerKey   string      `json:"signerKey,omitempty"`
	VerifierKey string      `json:"verifierKey,omitempty"`
	Note        string      `json:"note,omitempty"`
	Text        string      `json:"text,omitempty"`
	Name        string      `json:"name,omitempty"`
	KeyID       string      `json:"keyId,omitempty"`
	Sigs        []signature `json:"sigs,omitempty"`
	Unverified  []signature `json:"unverified,omitempty"`
	Hash        string      `json:"hash,omitempty"`
	Proof       []string    `json:"proof,omitempty"`
	Proofs      [][]string  `json:"proofs,omitempty"`
	TreeProofs  [][]string  `json:"treeProofs,omitempty"`
	Path        string      `json:"path,omitempty"`
	OK          bool        `json:"ok,omitempty"`
}

// memory is a tree kept the way tlog stores it: every hash at its StoredHashIndex.
type memory []tlog.Hash

func (m memory) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d is not stored", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// tileDir serves tiles written by the TypeScript side at their C2SP paths (tile/L/N[.p/W]),
// which are tlog's Tile.Path() without the height element.
type tileDir string

func (d tileDir) Height() int { return 8 }

func (d tileDir) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(filepath.Join(string(d), c2spPath(t)))
		if err != nil {
			return nil, err
		}
		data[i] = b
	}
	return data, nil
}

func (d tileDir) SaveTiles([]tlog.Tile, [][]byte) {}

func c2spPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", t.H))
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func strs(list []tlog.Hash) []string {
	out := make([]string, len(list))
	for i, h := range list {
		out[i] = h.String()
	}
	return out
}

var tree memory

func handle(req request) (response, error) {
	switch req.Op {
	case "generateKey":
		skey, vkey, err := note.GenerateKey(nil, req.Name)
		return response{SignerKey: skey, VerifierKey: vkey}, err

	case "newSigner":
		s, err := note.NewSigner(req.Key)
		if err != nil {
			return response{}, err
		}
		return response{Name: s.Name(), KeyID: fmt.Sprintf("%08x", s.KeyHash())}, nil

	case "newVerifier":
		v, err := note.NewVerifier(req.Key)
		if err != nil {
			return response{}, err
		}
		return response{Name: v.Name(), KeyID: fmt.Sprintf("%08x", v.KeyHash())}, nil

	case "sign":
		var signers []note.Signer
		for _, k := range req.Keys {
			s, err := note.NewSigner(k)
			if err != nil {
				return response{}, err
			}
			signers = append(signers, s)
		}
		msg, err := note.Sign(&note.Note{Text: req.Text}, signers...)
		return response{Note: string(msg)}, err

	case "open":
		var verifiers []note.Verifier
		for _, k := range req.Keys {
			v, err := note.NewVerifier(k)
			if err != nil {
				return response{}, err
			}
			verifiers = append(verifiers, v)
		}
		n, err := note.Open([]byte(req.Note), note.VerifierList(verifiers...))
		if err != nil {
			return response{}, err
		}
		resp := response{Text: n.Text}
		for _, s := range n.Sigs {
			resp.Sigs = append(resp.Sigs, signature{s.Name, fmt.Sprintf("%08x", s.Hash)})
		}
		for _, s := range n.UnverifiedSigs {
			resp.Unverified = append(resp.Unverified, signature{s.Name, fmt.Sprintf("%08x", s.Hash)})
		}
		return resp, nil

	case "loadTree":
		// Leaf i is the record "<seed>/<i>", which the TypeScript side hashes the same way.
		tree = nil
		for i := int64(0); i < req.Count; i++ {
			stored, err := tlog.StoredHashes(i, []byte(fmt.Sprintf("%s/%d", req.Seed, i)), tree)
			if err != nil {
				return response{}, err
			}
			tree = append(tree, stored...)
		}
		h, err := tlog.TreeHash(req.Count, tree)
		return response{Hash: h.String()}, err

	case "treeHash":
		h, err := tlog.TreeHash(req.Size, tree)
		return response{Hash: h.String()}, err

	case "proveRecord":
		p, err := tlog.ProveRecord(req.Size, req.Index, tree)
		return response{Proof: strs(p)}, err

	case "proveTree":
		p, err := tlog.ProveTree(req.Size, req.Old, tree)
		return response{Proof: strs(p)}, err

	case "checkRecord":
		p, err := hashes(req.Proof)
		if err != nil {
			return response{}, err
		}
		root, err := tlog.ParseHash(req.Root)
		if err != nil {
			return response{}, err
		}
		leaf, err := tlog.ParseHash(req.Leaf)
		if err != nil {
			return response{}, err
		}
		if err := tlog.CheckRecord(p, req.Size, root, req.Index, leaf); err != nil {
			return response{}, err
		}
		return response{OK: true}, nil

	case "checkTree":
		p, err := hashes(req.Proof)
		if err != nil {
			return response{}, err
		}
		root, err := tlog.ParseHash(req.Root)
		if err != nil {
			return response{}, err
		}
		old, err := tlog.ParseHash(req.OldRoot)
		if err != nil {
			return response{}, err
		}
		if err := tlog.CheckTree(p, req.Size, root, req.Old, old); err != nil {
			return response{}, err
		}
		return response{OK: true}, nil

	case "tiles":
		// TileHashReader authenticates every tile it reads against the tree hash it is given.
		root, err := tlog.ParseHash(req.Root)
		if err != nil {
			return response{}, err
		}
		r := tlog.TileHashReader(tlog.Tree{N: req.Size, Hash: root}, tileDir(req.Dir))
		h, err := tlog.TreeHash(req.Size, r)
		if err != nil {
			return response{}, err
		}
		resp := response{Hash: h.String()}
		for _, i := range req.Indexes {
			p, err := tlog.ProveRecord(req.Size, i, r)
			if err != nil {
				return response{}, err
			}
			resp.Proofs = append(resp.Proofs, strs(p))
		}
		for _, old := range req.Olds {
			p, err := tlog.ProveTree(req.Size, old, r)
			if err != nil {
				return response{}, err
			}
			resp.TreeProofs = append(resp.TreeProofs, strs(p))
		}
		return resp, nil

	case "tilePath":
		t := tlog.Tile{H: 8, L: req.Level, N: req.Index, W: req.Width}
		return response{Path: t.Path()}, nil

	case "recordHash":
		data, err := base64.StdEncoding.DecodeString(req.Text)
		if err != nil {
			return response{}, err
		}
		return response{Hash: tlog.RecordHash(data).String()}, nil
	}
	return response{}, fmt.Errorf("unknown op %q", req.Op)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<30)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		var req request
		resp := response{}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			resp.Error = "bad request: " + err.Error()
		} else if r, err := handle(req); err != nil {
			resp = response{Error: err.Error()}
		} else {
			resp = r
		}
		if err := enc.Encode(resp); err != nil {
			panic(err)
		}
		out.Flush()
	}
	if err := in.Err(); err != nil {
		panic(err)
	}
}
