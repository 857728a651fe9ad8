// A ListObjectsV2 page as a hostile or broken server may send it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListObjectsV2 } from '../../../src/download/s3-listing.ts';

test('objects are read in order, entities decoded; the continuation token only when truncated', () => {
  const page = parseListObjectsV2(
    '<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a&amp;b.bin</Key><Size>3</Size></Contents>' +
      '<Contents><Key>c.bin</Key><Size>0</Size></Contents><NextContinuationToken>t1</NextContinuationToken></ListBucketResult>',
    'list',
  );
  assert.deepEqual(page, {
    objects: [
      { key: 'a&b.bin', size: 3 },
      { key: 'c.bin', size: 0 },
    ],
    nextContinuationToken: 't1',
  });
});

test('a page whose elements never close lists nothing rather than matching across the page', () => {
  const unclosed = `<ListBucketResult>${'<Contents><Key>x</Key><Size>1'.repeat(50_000)}`;
  assert.deepEqual(parseListObjectsV2(unclosed, 'list').objects, []);
});

test('an answer that is not a listing, and an object without a readable size, are refused', () => {
  assert.throws(() => parseListObjectsV2('<Error><Code>AccessDenied</Code></Error>', 'list'), /not an S3 ListBucketResult/);
  assert.throws(
    () => parseListObjectsV2('<ListBucketResult><Contents><Key>x</Key><Size>-1</Size></Contents></ListBucketResult>', 'list'),
    /no readable Key or Size/,
  );
});
