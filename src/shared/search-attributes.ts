import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes a person filters jobs by in the Web UI or with
 * `temporal workflow list --query "ClipflowJobId='…'"`. The dev server registers them at start;
 * a cluster needs them registered once (see the README).
 */
export const JOB_ID_ATTRIBUTE = defineSearchAttributeKey('ClipflowJobId', SearchAttributeType.KEYWORD);
export const CLIPS_SUCCEEDED_ATTRIBUTE = defineSearchAttributeKey('ClipflowClipsSucceeded', SearchAttributeType.INT);
export const CLIPS_FAILED_ATTRIBUTE = defineSearchAttributeKey('ClipflowClipsFailed', SearchAttributeType.INT);
export const SPEND_USD_ATTRIBUTE = defineSearchAttributeKey('ClipflowSpendUsd', SearchAttributeType.DOUBLE);

export const SEARCH_ATTRIBUTES = [JOB_ID_ATTRIBUTE, CLIPS_SUCCEEDED_ATTRIBUTE, CLIPS_FAILED_ATTRIBUTE, SPEND_USD_ATTRIBUTE];
