WITH "t6" AS (
  SELECT
    "t5"."experiment_key",
    "t5"."unit_id",
    MIN("t5"."timestamp") AS "entry_ts",
    MIN("t5"."variant_key") <> MAX("t5"."variant_key") AS "mixed",
    MIN("t5"."variant_key") AS "variant_key",
    ARG_MIN("t5"."country", "t5"."timestamp") AS "country",
    ARG_MIN("t5"."platform", "t5"."timestamp") AS "platform",
    MAX("t5"."exp_end") AS "exp_end"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t0"."experiment_key",
        "t0"."variant_key",
        "t0"."unit_id",
        "t0"."timestamp",
        "t0"."country",
        "t0"."platform",
        CASE
          WHEN "t0"."experiment_key" = 'price-discount-10'
          THEN MAKE_TIMESTAMPTZ(2026, 1, 31, 0, 0, 0.0, 'UTC')
          WHEN "t0"."experiment_key" = 'msg-email-subject'
          THEN MAKE_TIMESTAMPTZ(2026, 5, 21, 0, 0, 0.0, 'UTC')
          ELSE MAKE_TIMESTAMPTZ(2200, 1, 1, 0, 0, 0.0, 'UTC')
        END AS "exp_start",
        CASE
          WHEN "t0"."experiment_key" = 'price-discount-10'
          THEN MAKE_TIMESTAMPTZ(2026, 3, 14, 0, 0, 0.0, 'UTC')
          WHEN "t0"."experiment_key" = 'msg-email-subject'
          THEN MAKE_TIMESTAMPTZ(2200, 1, 1, 0, 0, 0.0, 'UTC')
          ELSE MAKE_TIMESTAMPTZ(2200, 1, 1, 0, 0, 0.0, 'UTC')
        END AS "exp_end"
      FROM "exposures" AS "t0"
      WHERE
        "t0"."experiment_key" IN ('price-discount-10', 'msg-email-subject')
    ) AS "t3"
    WHERE
      "t3"."timestamp" >= "t3"."exp_start" AND "t3"."timestamp" < "t3"."exp_end"
  ) AS "t5"
  GROUP BY
    1,
    2
)
SELECT
  "t16"."experiment_key",
  "t16"."variant_key",
  COUNT(*) AS "n",
  SUM("t16"."x0_0") AS "s0_0",
  SUM("t16"."x0_1") AS "s0_1",
  SUM("t16"."x0_0" * "t16"."x0_0") AS "q0_0_0",
  SUM("t16"."x0_0" * "t16"."x0_1") AS "q0_0_1",
  SUM("t16"."x0_1" * "t16"."x0_1") AS "q0_1_1",
  SUM("t16"."x1_0") AS "s1_0",
  SUM("t16"."x1_1") AS "s1_1",
  SUM("t16"."x1_0" * "t16"."x1_0") AS "q1_0_0",
  SUM("t16"."x1_0" * "t16"."x1_1") AS "q1_0_1",
  SUM("t16"."x1_1" * "t16"."x1_1") AS "q1_1_1",
  SUM("t16"."x2_0") AS "s2_0",
  SUM("t16"."x2_1") AS "s2_1",
  SUM("t16"."x2_0" * "t16"."x2_0") AS "q2_0_0",
  SUM("t16"."x2_0" * "t16"."x2_1") AS "q2_0_1",
  SUM("t16"."x2_1" * "t16"."x2_1") AS "q2_1_1",
  SUM("t16"."x3_0") AS "s3_0",
  SUM("t16"."x3_0" * "t16"."x3_0") AS "q3_0_0",
  SUM("t16"."x4_0") AS "s4_0",
  SUM("t16"."x4_1") AS "s4_1",
  SUM("t16"."x4_0" * "t16"."x4_0") AS "q4_0_0",
  SUM("t16"."x4_0" * "t16"."x4_1") AS "q4_0_1",
  SUM("t16"."x4_1" * "t16"."x4_1") AS "q4_1_1"
FROM (
  SELECT
    "t15"."experiment_key",
    "t15"."unit_id",
    "t15"."variant_key",
    "t15"."country",
    "t15"."platform",
    "t15"."entry_day",
    "t15"."m0",
    "t15"."m1",
    "t15"."m2",
    "t15"."m3",
    "t15"."m4",
    "t15"."m5",
    CASE WHEN "t15"."m0" > 0 THEN 1.0 ELSE 0.0 END AS "x0_0",
    CASE WHEN "t15"."m1" > 0 THEN 1.0 ELSE 0.0 END AS "x0_1",
    "t15"."m2" AS "x1_0",
    "t15"."m3" AS "x1_1",
    "t15"."m4" AS "x2_0",
    "t15"."m0" AS "x2_1",
    "t15"."m5" AS "x3_0",
    "t15"."m2" AS "x4_0",
    "t15"."m0" AS "x4_1"
  FROM (
    SELECT
      "t10"."experiment_key",
      "t10"."unit_id",
      "t10"."variant_key",
      "t10"."country",
      "t10"."platform",
      CAST("t10"."entry_ts" AS DATE) AS "entry_day",
      COALESCE("t14"."m0", 0.0) AS "m0",
      COALESCE("t14"."m1", 0.0) AS "m1",
      COALESCE("t14"."m2", 0.0) AS "m2",
      COALESCE("t14"."m3", 0.0) AS "m3",
      COALESCE("t14"."m4", 0.0) AS "m4",
      COALESCE("t14"."m5", 0.0) AS "m5"
    FROM (
      SELECT
        *
      FROM "t6" AS "t7"
      WHERE
        NOT (
          "t7"."mixed"
        )
    ) AS "t10"
    LEFT OUTER JOIN (
      SELECT
        "t12"."experiment_key",
        "t12"."unit_id",
        SUM(
          CASE
            WHEN (
              "t12"."event_name" = 'purchase'
            ) AND (
              "t12"."timestamp" >= "t12"."b_p0"
            )
            THEN 1.0
            ELSE 0.0
          END
        ) AS "m0",
        SUM(
          CASE
            WHEN (
              "t12"."event_name" = 'purchase'
            ) AND (
              "t12"."timestamp" < "t12"."b_p0"
            )
            THEN 1.0
            ELSE 0.0
          END
        ) AS "m1",
        SUM(
          CASE
            WHEN (
              "t12"."event_name" = 'purchase'
            ) AND (
              "t12"."timestamp" >= "t12"."b_p0"
            )
            THEN COALESCE("t12"."value", 0.0)
            ELSE 0.0
          END
        ) AS "m2",
        SUM(
          CASE
            WHEN (
              "t12"."event_name" = 'purchase'
            ) AND (
              "t12"."timestamp" < "t12"."b_p0"
            )
            THEN COALESCE("t12"."value", 0.0)
            ELSE 0.0
          END
        ) AS "m3",
        SUM(
          CASE
            WHEN (
              "t12"."event_name" = 'return'
            ) AND (
              "t12"."timestamp" >= "t12"."b_p0"
            )
            THEN 1.0
            ELSE 0.0
          END
        ) AS "m4",
        SUM(
          CASE
            WHEN (
              "t12"."event_name" = 'purchase'
            )
            AND (
              "t12"."timestamp" >= "t12"."b_p0"
            )
            AND (
              TRUE AND (
                (
                  "t12"."properties" ->> '$.category'
                ) = 'camera'
              )
            )
            THEN COALESCE("t12"."value", 0.0)
            ELSE 0.0
          END
        ) AS "m5"
      FROM (
        SELECT
          "t4"."event_id",
          "t4"."unit_id",
          "t4"."timestamp",
          "t4"."event_name",
          "t4"."value",
          "t4"."properties",
          "t11"."experiment_key",
          "t11"."unit_id" AS "unit_id_right",
          "t11"."entry_ts",
          "t11"."mixed",
          "t11"."variant_key",
          "t11"."country",
          "t11"."platform",
          "t11"."exp_end",
          "t11"."b_m28",
          "t11"."b_p0",
          "t11"."b_p14",
          "t11"."span_end"
        FROM (
          SELECT
            *
          FROM "events" AS "t1"
          WHERE
            "t1"."event_name" IN ('purchase', 'return')
        ) AS "t4"
        INNER JOIN (
          SELECT
            "t7"."experiment_key",
            "t7"."unit_id",
            "t7"."entry_ts",
            "t7"."mixed",
            "t7"."variant_key",
            "t7"."country",
            "t7"."platform",
            "t7"."exp_end",
            "t7"."entry_ts" + INTERVAL '-28' DAY AS "b_m28",
            "t7"."entry_ts" + INTERVAL '0' DAY AS "b_p0",
            "t7"."entry_ts" + INTERVAL '14' DAY AS "b_p14",
            LEAST("t7"."entry_ts" + INTERVAL '14' DAY, "t7"."exp_end") AS "span_end"
          FROM "t6" AS "t7"
          WHERE
            NOT (
              "t7"."mixed"
            )
        ) AS "t11"
          ON "t4"."unit_id" = "t11"."unit_id"
          AND "t4"."timestamp" >= "t11"."b_m28"
          AND "t4"."timestamp" < "t11"."span_end"
      ) AS "t12"
      GROUP BY
        1,
        2
    ) AS "t14"
      ON "t10"."experiment_key" = "t14"."experiment_key"
      AND "t10"."unit_id" = "t14"."unit_id"
  ) AS "t15"
) AS "t16"
GROUP BY
  1,
  2
