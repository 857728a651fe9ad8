// A generated block inside a hand-written file (the troubleshooting table in README.md): the text
// between two marker comments is the generator's, everything else the authors'. Replacing it must
// leave every byte outside the markers as it was, and a file whose markers were lost must stop the
// generator rather than have the block appended somewhere nobody chose.

export interface BlockMarkers {
  begin: string;
  end: string;
}

/** The file has no place for the block: its markers are missing, repeated or out of order. */
export class BlockMarkersError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockMarkersError';
  }
}

/**
 * `text` with everything between the markers replaced by `block` (the markers stay, each on its own
 * line). `file` names the file in the error.
 */
export function replaceGeneratedBlock(text: string, markers: BlockMarkers, block: string, file: string): string {
  const begin = onlyOccurrence(text, markers.begin, markers, file);
  const end = onlyOccurrence(text, markers.end, markers, file);
  if (end < begin) throw new BlockMarkersError(`${file}: "${markers.end}" comes before "${markers.begin}"`);
  const body = block.endsWith('\n') ? block : `${block}\n`;
  return `${text.slice(0, begin + markers.begin.length)}\n${body}${text.slice(end)}`;
}

function onlyOccurrence(text: string, marker: string, markers: BlockMarkers, file: string): number {
  const at = text.indexOf(marker);
  if (at < 0)
    throw new BlockMarkersError(
      `${file} has no "${marker}" marker: put "${markers.begin}" and "${markers.end}" on lines of their own where the generated block belongs`,
    );
  if (text.indexOf(marker, at + marker.length) >= 0) throw new BlockMarkersError(`${file} has "${marker}" more than once`);
  return at;
}
