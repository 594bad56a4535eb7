// Package profile holds the SBS96 mutation profile of one donor: its 96
// channels, the validator of the SIGNAL site's CSV download, and the writers
// and reader of the result matrix that joins many profiles.
package profile

// Channels lists the 96 single-base substitution channels in the fixed order
// of the SIGNAL download and of the result matrix: the substitutions C>A, C>G,
// C>T, T>A, T>C and T>G, and within each the 16 contexts A[..]A to T[..]T.
var Channels = buildChannels()

// channelIndex maps a channel name to its position in Channels.
var channelIndex = buildChannelIndex()

func buildChannels() [96]string {
	substitutions := []string{"C>A", "C>G", "C>T", "T>A", "T>C", "T>G"}
	const bases = "ACGT"
	var out [96]string
	i := 0
	for _, sub := range substitutions {
		for _, left := range bases {
			for _, right := range bases {
				out[i] = string(left) + "[" + sub + "]" + string(right)
				i++
			}
		}
	}
	return out
}

func buildChannelIndex() map[string]int {
	m := make(map[string]int, len(Channels))
	for i, ch := range Channels {
		m[ch] = i
	}
	return m
}
