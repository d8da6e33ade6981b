WITH "t7" AS (
  SELECT
    "t4"."experiment_key",
    "t4"."unit_id",
    MIN("t4"."timestamp") AS "entry_ts",
    MIN("t4"."variant_key") <> MAX("t4"."variant_key") AS "mixed",
    MIN("t4"."variant_key") AS "variant_key",
    (
      ARRAY_AGG("t4"."country" ORDER BY "t4"."timestamp" ASC) FILTER(WHERE
        "t4"."timestamp" IS NOT NULL)
    )[1] AS "country",
    (
      ARRAY_AGG("t4"."platform" ORDER BY "t4"."timestamp" ASC) FILTER(WHERE
        "t4"."timestamp" IS NOT NULL)
    )[1] AS "platform",
    MAX("t4"."exp_end") AS "exp_end"
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
        "t0"."attributes",
        CASE
          WHEN "t0"."experiment_key" = 'price-discount-10'
          THEN CAST('2026-01-31T00:00:00+00:00' AS TIMESTAMPTZ(6))
          WHEN "t0"."experiment_key" = 'msg-email-subject'
          THEN CAST('2026-05-21T00:00:00+00:00' AS TIMESTAMPTZ(6))
          ELSE CAST('2200-01-01T00:00:00+00:00' AS TIMESTAMPTZ(6))
        END AS "exp_start",
        CASE
          WHEN "t0"."experiment_key" = 'price-discount-10'
          THEN CAST('2026-03-14T00:00:00+00:00' AS TIMESTAMPTZ(6))
          WHEN "t0"."experiment_key" = 'msg-email-subject'
          THEN CAST('2200-01-01T00:00:00+00:00' AS TIMESTAMPTZ(6))
          ELSE CAST('2200-01-01T00:00:00+00:00' AS TIMESTAMPTZ(6))
        END AS "enrol_end",
        CASE
          WHEN "t0"."experiment_key" = 'price-discount-10'
          THEN CAST('2026-03-14T00:00:00+00:00' AS TIMESTAMPTZ(6))
          WHEN "t0"."experiment_key" = 'msg-email-subject'
          THEN CAST('2200-01-01T00:00:00+00:00' AS TIMESTAMPTZ(6))
          ELSE CAST('2200-01-01T00:00:00+00:00' AS TIMESTAMPTZ(6))
        END AS "exp_end"
      FROM "exposures" AS "t0"
      WHERE
        "t0"."experiment_key" IN ('price-discount-10', 'msg-email-subject')
    ) AS "t3"
    WHERE
      "t3"."timestamp" >= "t3"."exp_start" AND "t3"."timestamp" < "t3"."enrol_end"
  ) AS "t4"
  GROUP BY
    1,
    2
)
SELECT
  "t17"."experiment_key",
  "t17"."variant_key",
  "t17"."mixed",
  COUNT(*) AS "n",
  SUM("t17"."w0") AS "n0",
  SUM("t17"."x0_0") AS "s0_0",
  SUM("t17"."x0_1") AS "s0_1",
  SUM("t17"."x0_0" * "t17"."x0_0") AS "q0_0_0",
  SUM("t17"."x0_0" * "t17"."x0_1") AS "q0_0_1",
  SUM("t17"."x0_1" * "t17"."x0_1") AS "q0_1_1",
  SUM("t17"."w1") AS "n1",
  SUM("t17"."x1_0") AS "s1_0",
  SUM("t17"."x1_1") AS "s1_1",
  SUM("t17"."x1_0" * "t17"."x1_0") AS "q1_0_0",
  SUM("t17"."x1_0" * "t17"."x1_1") AS "q1_0_1",
  SUM("t17"."x1_1" * "t17"."x1_1") AS "q1_1_1",
  SUM("t17"."w2") AS "n2",
  SUM("t17"."x2_0") AS "s2_0",
  SUM("t17"."x2_1") AS "s2_1",
  SUM("t17"."x2_0" * "t17"."x2_0") AS "q2_0_0",
  SUM("t17"."x2_0" * "t17"."x2_1") AS "q2_0_1",
  SUM("t17"."x2_1" * "t17"."x2_1") AS "q2_1_1",
  SUM("t17"."w3") AS "n3",
  SUM("t17"."x3_0") AS "s3_0",
  SUM("t17"."x3_0" * "t17"."x3_0") AS "q3_0_0",
  SUM("t17"."w4") AS "n4",
  SUM("t17"."x4_0") AS "s4_0",
  SUM("t17"."x4_1") AS "s4_1",
  SUM("t17"."x4_0" * "t17"."x4_0") AS "q4_0_0",
  SUM("t17"."x4_0" * "t17"."x4_1") AS "q4_0_1",
  SUM("t17"."x4_1" * "t17"."x4_1") AS "q4_1_1"
FROM (
  SELECT
    "t16"."experiment_key",
    "t16"."unit_id",
    "t16"."variant_key",
    "t16"."country",
    "t16"."platform",
    "t16"."mixed",
    "t16"."entry_day",
    "t16"."done_14",
    "t16"."m0",
    "t16"."m1",
    "t16"."m2",
    "t16"."m3",
    "t16"."m4",
    "t16"."m5",
    CASE
      WHEN "t16"."done_14"
      THEN CASE WHEN "t16"."m0" > 0 THEN 1.0 ELSE 0.0 END
      ELSE 0.0
    END AS "x0_0",
    CASE
      WHEN "t16"."done_14"
      THEN CASE WHEN "t16"."m1" > 0 THEN 1.0 ELSE 0.0 END
      ELSE 0.0
    END AS "x0_1",
    CASE WHEN "t16"."done_14" THEN 1.0 ELSE 0.0 END AS "w0",
    CASE WHEN "t16"."done_14" THEN "t16"."m2" ELSE 0.0 END AS "x1_0",
    CASE WHEN "t16"."done_14" THEN "t16"."m3" ELSE 0.0 END AS "x1_1",
    CASE WHEN "t16"."done_14" THEN 1.0 ELSE 0.0 END AS "w1",
    CASE WHEN "t16"."done_14" THEN "t16"."m4" ELSE 0.0 END AS "x2_0",
    CASE WHEN "t16"."done_14" THEN "t16"."m0" ELSE 0.0 END AS "x2_1",
    CASE WHEN "t16"."done_14" THEN 1.0 ELSE 0.0 END AS "w2",
    CASE WHEN "t16"."done_14" THEN "t16"."m5" ELSE 0.0 END AS "x3_0",
    CASE WHEN "t16"."done_14" THEN 1.0 ELSE 0.0 END AS "w3",
    CASE WHEN "t16"."done_14" THEN "t16"."m2" ELSE 0.0 END AS "x4_0",
    CASE WHEN "t16"."done_14" THEN "t16"."m0" ELSE 0.0 END AS "x4_1",
    CASE WHEN "t16"."done_14" THEN 1.0 ELSE 0.0 END AS "w4"
  FROM (
    SELECT
      "t11"."experiment_key",
      "t11"."unit_id",
      "t11"."variant_key",
      "t11"."country",
      "t11"."platform",
      "t11"."mixed",
      DATE("t11"."entry_ts") AS "entry_day",
      (
        "t11"."entry_ts" + INTERVAL '14 DAY'
      ) <= "t11"."exp_end" AS "done_14",
      COALESCE("t15"."m0", 0.0) AS "m0",
      COALESCE("t15"."m1", 0.0) AS "m1",
      COALESCE("t15"."m2", 0.0) AS "m2",
      COALESCE("t15"."m3", 0.0) AS "m3",
      COALESCE("t15"."m4", 0.0) AS "m4",
      COALESCE("t15"."m5", 0.0) AS "m5"
    FROM (
      SELECT
        "t8"."experiment_key",
        "t8"."unit_id",
        "t8"."entry_ts",
        "t8"."mixed",
        "t8"."variant_key",
        "t8"."country",
        "t8"."platform",
        "t8"."exp_end",
        CAST(CASE
          WHEN "t8"."experiment_key" = 'price-discount-10'
          THEN 0
          WHEN "t8"."experiment_key" = 'msg-email-subject'
          THEN 1
          ELSE -1
        END AS SMALLINT) AS "xi"
      FROM "t7" AS "t8"
    ) AS "t11"
    LEFT OUTER JOIN (
      SELECT
        "t13"."xi",
        "t13"."unit_id",
        SUM(
          CASE
            WHEN (
              "t13"."code" = 0
            ) AND (
              "t13"."timestamp" >= "t13"."b_p0"
            )
            THEN 1.0
            ELSE 0.0
          END
        ) AS "m0",
        SUM(
          CASE
            WHEN (
              "t13"."code" = 0
            ) AND (
              "t13"."timestamp" < "t13"."b_p0"
            )
            THEN 1.0
            ELSE 0.0
          END
        ) AS "m1",
        SUM(
          CASE
            WHEN (
              "t13"."code" = 0
            ) AND (
              "t13"."timestamp" >= "t13"."b_p0"
            )
            THEN "t13"."amount"
            ELSE 0.0
          END
        ) AS "m2",
        SUM(
          CASE
            WHEN (
              "t13"."code" = 0
            ) AND (
              "t13"."timestamp" < "t13"."b_p0"
            )
            THEN "t13"."amount"
            ELSE 0.0
          END
        ) AS "m3",
        SUM(
          CASE
            WHEN (
              "t13"."code" = 1
            ) AND (
              "t13"."timestamp" >= "t13"."b_p0"
            )
            THEN 1.0
            ELSE 0.0
          END
        ) AS "m4",
        SUM(
          CASE
            WHEN (
              "t13"."code" = 0
            ) AND (
              "t13"."timestamp" >= "t13"."b_p0"
            ) AND "t13"."f0"
            THEN "t13"."amount"
            ELSE 0.0
          END
        ) AS "m5"
      FROM (
        SELECT
          "t6"."unit_id",
          "t6"."timestamp",
          "t6"."code",
          "t6"."amount",
          "t6"."f0",
          "t12"."xi",
          "t12"."unit_id" AS "unit_id_right",
          "t12"."entry_ts",
          "t12"."exp_end",
          "t12"."b_m28",
          "t12"."b_p0",
          "t12"."b_p14",
          "t12"."span_end"
        FROM (
          SELECT
            "t2"."unit_id",
            "t2"."timestamp",
            CASE
              WHEN "t2"."event_name" = 'purchase'
              THEN 0
              WHEN "t2"."event_name" = 'return'
              THEN 1
              ELSE -1
            END AS "code",
            COALESCE("t2"."value", 0.0) AS "amount",
            COALESCE(
              TRUE AND (
                JSON_EXTRACT_PATH_TEXT("t2"."properties", 'category') = 'camera'
              ),
              FALSE
            ) AS "f0"
          FROM (
            SELECT
              *
            FROM "events" AS "t1"
            WHERE
              "t1"."event_name" IN ('purchase', 'return')
          ) AS "t2"
        ) AS "t6"
        INNER JOIN (
          SELECT
            CAST(CASE
              WHEN "t8"."experiment_key" = 'price-discount-10'
              THEN 0
              WHEN "t8"."experiment_key" = 'msg-email-subject'
              THEN 1
              ELSE -1
            END AS SMALLINT) AS "xi",
            "t8"."unit_id",
            "t8"."entry_ts",
            "t8"."exp_end",
            "t8"."entry_ts" + INTERVAL '-28 DAY' AS "b_m28",
            "t8"."entry_ts" + INTERVAL '0 DAY' AS "b_p0",
            "t8"."entry_ts" + INTERVAL '14 DAY' AS "b_p14",
            LEAST("t8"."entry_ts" + INTERVAL '14 DAY', "t8"."exp_end") AS "span_end"
          FROM "t7" AS "t8"
          WHERE
            NOT (
              "t8"."mixed"
            )
        ) AS "t12"
          ON "t6"."unit_id" = "t12"."unit_id"
          AND "t6"."timestamp" >= "t12"."b_m28"
          AND "t6"."timestamp" < "t12"."span_end"
      ) AS "t13"
      GROUP BY
        1,
        2
    ) AS "t15"
      ON "t11"."xi" = "t15"."xi" AND "t11"."unit_id" = "t15"."unit_id"
  ) AS "t16"
) AS "t17"
GROUP BY
  1,
  2,
  3
