/**
 * Messages between the page and the decode worker (uploads, issue 4).
 *
 * The file list arrives in `files` slices; then two phases so the page can state the memory estimate before anything is
 * decoded: `scan` lists the files (zips expanded) and plans the upload;
 * `decode` then decodes all of it, or a seeded random subset when the user
 * chose that over the budget. Every message carries the job id; the page
 * drops events of jobs it no longer waits for.
 */
import type { SkipKind, UploadReport } from '../core/data/upload';
import type { Fit, LoadProgress } from '../io/load-images';

export interface UploadFile {
  /** Path relative to the dropped or chosen folder ('cats/1.png'), or the file's name. */
  path: string;
  file: Blob;
}

export type DecodeRequest =
  /**
   * Part of a job's file list. Sent in slices: the first structured clone of a File costs time on the sending thread,
   * so 5,000 in one message blocked the page for over a second (docs/BENCHMARKS.md §M12).
   */
  | { type: 'files'; jobId: number; files: UploadFile[] }
  /**
   * The job's list is complete: expand zips, plan, report the summary.
   * `budgetBytes`, the upload's memory budget, sets the zip unpack caps
   * (src/io/zip.ts `zipLimits`); without it, those of the default budget.
   */
  | { type: 'scan'; jobId: number; name: string; budgetBytes?: number }
  | {
      type: 'decode';
      jobId: number;
      size: number;
      fit: Fit;
      maxPixels: number;
      subset?: { count: number; seed: number };
    }
  | { type: 'cancel'; jobId: number };

export interface ScanSummary {
  /** Files seen after expanding zips, hidden ones included. */
  files: number;
  /** Image files that will be decoded (before the subset choice). */
  candidates: number;
  labelled: boolean;
  classNames: string[];
  /** Files already refused while listing, per kind (not an image, empty, symbolic link, encrypted, over the unpack caps). */
  skipped: Partial<Record<SkipKind, number>>;
}

export type DecodeEvent =
  | { type: 'scanned'; jobId: number; summary: ScanSummary }
  | ({ type: 'progress'; jobId: number } & LoadProgress)
  | {
      type: 'decoded';
      jobId: number;
      name: string;
      size: number;
      /** loaded×S×S×3 RGB (transferred). */
      images: Uint8Array;
      labels: Int32Array | null;
      classNames: string[];
      report: UploadReport;
      ms: number;
      cancelled: boolean;
    }
  | { type: 'error'; jobId: number; message: string };
