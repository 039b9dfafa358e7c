using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Experiments.Api.Persistence.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Validation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "BestValidationAccuracy",
                table: "Runs",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ValidationAccuracy",
                table: "EpochMetrics",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ValidationLoss",
                table: "EpochMetrics",
                type: "double precision",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "BestValidationAccuracy",
                table: "Runs");

            migrationBuilder.DropColumn(
                name: "ValidationAccuracy",
                table: "EpochMetrics");

            migrationBuilder.DropColumn(
                name: "ValidationLoss",
                table: "EpochMetrics");
        }
    }
}
